#pragma once
// One safetensors file, memory-mapped and validated on open (every check of SafetensorsHeader.h).
// Tensors are returned as CPU torch::Tensor views over the mapping (no copy) when the data is
// aligned for its dtype, and as copies otherwise. A view keeps the mapping alive through its
// deleter, so tensors may outlive the SafetensorsFile. Views are copy-on-write private pages:
// writing into them never changes the file; clone() before moving to CUDA is not needed (.to() copies).
//
//   auto f = xopd::SafetensorsFile::open("model.safetensors");
//   for (const auto& name : f->names()) std::cout << name << " " << f->info(name).byteSize() << "\n";
//   torch::Tensor w = f->tensor("model.norm.weight");   // BF16, shape from the header
//
// Loadable dtypes: BF16, F16, F32 (the required ones), plus F64, I64, I32, I16, I8, U8, BOOL for
// metadata-like tensors. Other header dtypes (U16, U32, U64, F8_*, F4, F6_*, C64) pass validation
// but tensor() throws naming the dtype and the tensor.
// Threading: immutable after open; every const method may be called from any thread.

#include "core/model/checkpoint/MappedFile.h"
#include "core/model/checkpoint/SafetensorsHeader.h"

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace xopd {

class SafetensorsFile {
public:
    /// Maps and validates path. Throws xopd::Error naming the file (and the tensor at fault).
    static std::shared_ptr<SafetensorsFile> open(const std::string& path);
    /// Validates bytes already in memory (the mapping is kept alive by `file`).
    static std::shared_ptr<SafetensorsFile> fromMapping(std::shared_ptr<MappedFile> file);

    /// Path of the file.
    const std::string& path() const { return file_->path(); }
    /// Tensor names in header order.
    std::vector<std::string> names() const;
    /// True when the file holds a tensor of that name.
    bool has(const std::string& name) const { return header_.find(name) >= 0; }
    /// Header entry (dtype, shape, byte range). Throws xopd::Error naming the file when absent.
    const TensorInfo& info(const std::string& name) const;
    /// The whole validated header (entries in file order, `__metadata__`).
    const SafetensorsHeader& header() const { return header_; }
    /// Size of the file in bytes.
    uint64_t fileSize() const { return file_->size(); }

    /// The tensor as a CPU torch::Tensor with the header's dtype and shape. Throws xopd::Error
    /// naming the tensor and the file when absent or when its dtype has no LibTorch equivalent.
    torch::Tensor tensor(const std::string& name) const;

private:
    SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header);
    std::shared_ptr<MappedFile> file_;
    SafetensorsHeader header_;
};

/// LibTorch dtype of a safetensors dtype; nullopt when LibTorch 1.13 has none (U16, F8_*, ...).
std::optional<torch::Dtype> torchDtype(SafetensorsDtype dtype);
/// Safetensors dtype of a LibTorch dtype. Throws xopd::Error for dtypes the format cannot hold.
SafetensorsDtype safetensorsDtype(torch::Dtype dtype);

}  // namespace xopd

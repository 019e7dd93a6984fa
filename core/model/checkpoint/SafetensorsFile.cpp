#include "core/model/checkpoint/SafetensorsFile.h"

#include "core/common/Error.h"
#include "core/common/Tensors.h"

#include <cstring>

namespace xopd {

std::optional<torch::Dtype> torchDtype(SafetensorsDtype dtype) {
    switch (dtype) {
        case SafetensorsDtype::BF16: return torch::kBFloat16;
        case SafetensorsDtype::F16: return torch::kFloat16;
        case SafetensorsDtype::F32: return torch::kFloat32;
        case SafetensorsDtype::F64: return torch::kFloat64;
        case SafetensorsDtype::I64: return torch::kInt64;
        case SafetensorsDtype::I32: return torch::kInt32;
        case SafetensorsDtype::I16: return torch::kInt16;
        case SafetensorsDtype::I8: return torch::kInt8;
        case SafetensorsDtype::U8: return torch::kUInt8;
        case SafetensorsDtype::Bool: return torch::kBool;
        default: return std::nullopt;
    }
}

SafetensorsDtype safetensorsDtype(torch::Dtype dtype) {
    switch (dtype) {
        case torch::kBFloat16: return SafetensorsDtype::BF16;
        case torch::kFloat16: return SafetensorsDtype::F16;
        case torch::kFloat32: return SafetensorsDtype::F32;
        case torch::kFloat64: return SafetensorsDtype::F64;
        case torch::kInt64: return SafetensorsDtype::I64;
        case torch::kInt32: return SafetensorsDtype::I32;
        case torch::kInt16: return SafetensorsDtype::I16;
        case torch::kInt8: return SafetensorsDtype::I8;
        case torch::kUInt8: return SafetensorsDtype::U8;
        case torch::kBool: return SafetensorsDtype::Bool;
        default: XOPD_FAIL("dtype " << c10::toString(dtype) << " cannot be stored in safetensors by this program");
    }
}

SafetensorsFile::SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header)
    : file_(std::move(file)), header_(std::move(header)) {}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    return fromMapping(MappedFile::open(path));
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::fromMapping(std::shared_ptr<MappedFile> file) {
    SafetensorsHeader header = parseSafetensorsHeader(file->data(), file->size(), file->path());
    return std::shared_ptr<SafetensorsFile>(new SafetensorsFile(std::move(file), std::move(header)));
}

std::vector<std::string> SafetensorsFile::names() const {
    std::vector<std::string> out;
    out.reserve(header_.tensors.size());
    for (const auto& t : header_.tensors) out.push_back(t.name);
    return out;
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
    const int64_t i = header_.find(name);
    XOPD_CHECK(i >= 0, "'" << path() << "': no tensor named '" << name << "'");
    return header_.tensors[static_cast<size_t>(i)];
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
    const TensorInfo& t = info(name);
    const auto dtype = torchDtype(t.dtype);
    XOPD_CHECK(dtype, "'" << path() << "': tensor '" << name << "' has dtype " << dtypeName(t.dtype)
                          << ", which cannot be loaded (supported: BF16, F16, F32, F64, I64, I32, I16, I8, U8, BOOL)");
    const auto options = torch::TensorOptions().dtype(*dtype).device(torch::kCPU);
    if (t.byteSize() == 0) return torch::empty(t.shape, options);
    uint8_t* ptr = file_->data() + header_.data_offset + t.begin;
    const size_t elem = static_cast<size_t>(dtypeBits(t.dtype) / 8);
    if (reinterpret_cast<uintptr_t>(ptr) % elem != 0) {
        // Misaligned for its dtype (writers other than the reference one): copy.
        torch::Tensor out = torch::empty(t.shape, options);
        std::memcpy(out.data_ptr(), ptr, t.byteSize());
        return out;
    }
    std::shared_ptr<MappedFile> keep = file_;
    return torch::from_blob(
        ptr, t.shape, [keep](void*) mutable { keep.reset(); }, options);
}

}  // namespace xopd

#pragma once
// Reading a tensor-list archive (`trainable.pt` of a checkpoint, written by saveTorchArchive in
// core/common/TorchSave.h) without including LibTorch's serialisation headers: they bring in
// torch::jit, whose `slots()` clashes with Qt's `slots` macro in Qt-using code such as the tests,
// and they double the parse cost of the includer.
//
// Threading: one thread per call.

#include "core/common/Tensors.h"

#include <string>
#include <vector>

namespace xopd {

/// The tensors of the archive at `path` (torch::load into a std::vector<torch::Tensor>).
/// Throws xopd::Error naming the file when it is missing or not such an archive.
std::vector<torch::Tensor> loadTensorListArchive(const std::string& path);

}  // namespace xopd

// TorchSave.h is header-only (templates); this file keeps the header compiled on its own and
// holds the archive reader of TensorArchive.h.
#include "core/common/TorchSave.h"

#include "core/common/TensorArchive.h"

namespace xopd {

std::vector<torch::Tensor> loadTensorListArchive(const std::string& path) {
    std::vector<torch::Tensor> tensors;
    try {
        torch::load(tensors, path);
    } catch (const std::exception& e) {
        throw Error(path + ": not a readable tensor archive (" + e.what() + ")");
    }
    return tensors;
}

}  // namespace xopd

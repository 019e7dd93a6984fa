// Never part of the product: compiled only by the ctest widgets_cannot_include_torch, which
// expects this file to fail (widgets/CMakeLists.txt, xopd_use_core_without_torch).
#include <torch/torch.h>

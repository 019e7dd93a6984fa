// Built instead of CudaDivergence.cpp when LibTorch has no CUDA (e.g. Debian's CPU-only LibTorch):
// the .cu kernels are compiled (and checked by nvcc) but nothing can call them from LibTorch.
#include "kernels/CudaKernels.h"
#include "kernels/DivergenceKernels.h"

namespace xopd::kernels {

bool registerCudaKernels() { return false; }
bool cudaGlueBuilt() { return false; }
const char* kernelArchs() { return divergenceKernelArchs(); }

}  // namespace xopd::kernels

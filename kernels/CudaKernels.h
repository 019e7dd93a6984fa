#pragma once
// Entry point of kernels/ for the rest of the program: registers the CUDA divergence backend into
// core's dispatch table (core/distill/divergence/DivergenceBackend.h). Core never calls this;
// front ends (CLI, GUI, tests) do once at start-up, and linking the object also registers at
// static initialisation.
//
// Targets that link xopd_kernels get the compile definition XOPD_HAVE_KERNELS.

namespace xopd::kernels {

/// Registers the fused CUDA divergence backend for c10::DeviceType::CUDA. Idempotent, thread-safe.
/// Returns false when this build's LibTorch has no CUDA (the .cu kernels were compiled but there
/// is no glue to call them from LibTorch); true otherwise.
bool registerCudaKernels();

/// True when the LibTorch glue (CudaDivergence.cpp) is part of this build.
bool cudaGlueBuilt();

/// Real CUDA architectures the kernels were compiled for, e.g. "sm_90".
const char* kernelArchs();

}  // namespace xopd::kernels

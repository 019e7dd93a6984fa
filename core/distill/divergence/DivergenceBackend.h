#pragma once
// Dispatch table for the divergence functions of Divergence.h, keyed by device type.
//
// The CPU reference (referenceDivergence / referenceTokenLogProbs) is registered for
// c10::DeviceType::CPU at static initialisation of this library and is also the fallback for any
// device without an entry. kernels/ registers the CUDA entry through
// xopd::kernels::registerCudaKernels() (kernels/CudaKernels.h); core never depends on
// kernels/.
//
// Threading: registration and lookup are guarded by a mutex; lookups return a copy, so a backend
// may be replaced while another thread computes. Lifetime: function objects are copied in.

#include "core/distill/divergence/Divergence.h"

#include <c10/core/DeviceType.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace xopd::distill {

/// One device's implementation of the divergence functions.
struct DivergenceBackend {
    /// Short name shown by `xopd selftest`, e.g. "cpu-reference", "cuda-fused".
    std::string name;
    /// Same contract as computeDivergence (inputs already validated).
    std::function<DivergenceOutput(const DivergenceInput&, const DivergenceOptions&)> divergence;
    /// Same contract as tokenLogProbs (inputs already validated).
    std::function<TokenLogProbOutput(const torch::Tensor& logits, const torch::Tensor& sampledIds,
                                     const torch::Tensor& vocabMask, double temperature)>
        tokenLogProbs;
};

/// Registers (or replaces) the backend for a device type. Both functions must be set.
void registerDivergenceBackend(c10::DeviceType device, DivergenceBackend backend);

/// The backend used for tensors on this device type: the registered one, else the reference.
DivergenceBackend divergenceBackend(c10::DeviceType device);

/// True when a backend is registered for this device type (always true for CPU).
bool hasDivergenceBackend(c10::DeviceType device);

/// The reference backend (always available).
DivergenceBackend referenceDivergenceBackend();

}  // namespace xopd::distill

#pragma once
// The ATen-level part of LibTorch that the core's tensor code uses: torch::Tensor, dtypes and
// factories, the ATen operators under torch:: (torch::matmul, torch::indexing, ...), grad-mode
// guards (torch::NoGradGuard), seeding and thread counts (torch/utils.h) and torch::cuda queries.
//
// Include this rather than <torch/torch.h>: the C++ frontend that header adds (torch::nn modules,
// torch::optim, torch::data, torch::serialize) doubles the parse and precompiled-header cost of
// every translation unit, and only the few files that train with torch::optim or write archives
// need it; they include the frontend part they use (<torch/optim/adamw.h>, <torch/serialize.h>).
// xopd_common precompiles this header for every core library (core/common/CMakeLists.txt).

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/version.h>  // TORCH_VERSION_MAJOR: code paths for LibTorch 1.13 and 2.x

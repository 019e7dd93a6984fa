#pragma once
// Learning rate at an optimizer step: linear warm-up, then constant or cosine decay.
// Pure function; safe from any thread.

#include "core/distill/DistillConfig.h"

#include <cstdint>

namespace xopd::distill {

/// lr for the update that makes step `step` (0-based), with `base_lr` the (possibly hot-edited)
/// peak rate and `max_steps` the planned total.
double learningRateAt(const TrainConfig& train, double base_lr, int64_t step, int64_t max_steps);

}  // namespace xopd::distill

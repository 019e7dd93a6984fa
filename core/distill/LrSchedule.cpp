#include "core/distill/LrSchedule.h"

#include <algorithm>
#include <cmath>

namespace xopd::distill {

double learningRateAt(const TrainConfig& train, double base_lr, int64_t step, int64_t max_steps) {
    if (train.warmup_steps > 0 && step < train.warmup_steps)
        return base_lr * double(step + 1) / double(train.warmup_steps);
    if (train.lr_schedule != LrSchedule::Cosine) return base_lr;
    const double span = double(std::max<int64_t>(1, max_steps - train.warmup_steps));
    const double progress = std::clamp(double(step - train.warmup_steps) / span, 0.0, 1.0);
    const double floor = base_lr * train.min_lr_ratio;
    return floor + (base_lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace xopd::distill

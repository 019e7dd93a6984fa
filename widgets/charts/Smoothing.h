#pragma once
// Pure functions behind the metric charts: debiased EMA smoothing and outlier-ignoring ranges.
// No Qt; safe on any thread.

#include <utility>
#include <vector>

namespace xopd::widgets {

/// TensorBoard's classicSmoothing: an exponential moving average debiased by dividing by
/// 1 − wⁿ (n = number of finite points so far). A constant series is returned unchanged and
/// non-finite points pass through (they neither enter nor reset the average).
/// `weight` is clamped to [0, 0.999]; 0 returns the input.
std::vector<double> debiasedEma(const std::vector<double>& values, double weight);

/// Inclusive range [lo, hi] of the finite values between the `lowQuantile` and `highQuantile`
/// (linear interpolation between order statistics, as numpy's default). Returns {NaN, NaN} when
/// there is no finite value. Quantiles are clamped to [0, 1].
std::pair<double, double> quantileRange(const std::vector<double>& values, double lowQuantile,
                                        double highQuantile);

/// Range for a y-axis. ignoreOutliers (TensorBoard's default): quantileRange 0.05..0.95 padded by
/// 20 % of the span; otherwise the full range padded by 5 %. A flat series gets ±0.5·|v| (±1 at 0).
/// When `logScale`, only positive values count and the range is widened ×/÷ 1.2.
std::pair<double, double> axisRange(const std::vector<double>& values, bool ignoreOutliers, bool logScale);

}  // namespace xopd::widgets

#include "widgets/charts/Smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace xopd::widgets {

std::vector<double> debiasedEma(const std::vector<double>& values, double weight) {
    weight = std::clamp(weight, 0.0, 0.999);
    if (values.empty() || weight == 0.0) return values;
    bool constant = true;
    for (double v : values) {
        if (!(v == values.front())) {  // NaN != NaN makes a NaN-containing series non-constant
            constant = false;
            break;
        }
    }
    if (constant) return values;
    std::vector<double> out(values.size());
    double last = 0.0;
    int n = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        const double v = values[i];
        if (!std::isfinite(v)) {
            out[i] = v;
            continue;
        }
        last = last * weight + (1.0 - weight) * v;
        ++n;
        out[i] = last / (1.0 - std::pow(weight, n));
    }
    return out;
}

std::pair<double, double> quantileRange(const std::vector<double>& values, double lowQuantile,
                                        double highQuantile) {
    std::vector<double> finite;
    finite.reserve(values.size());
    for (double v : values)
        if (std::isfinite(v)) finite.push_back(v);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (finite.empty()) return {nan, nan};
    std::sort(finite.begin(), finite.end());
    auto at = [&](double q) {
        q = std::clamp(q, 0.0, 1.0);
        const double pos = q * double(finite.size() - 1);
        const size_t i = size_t(std::floor(pos));
        const size_t j = std::min(i + 1, finite.size() - 1);
        const double f = pos - double(i);
        return finite[i] + (finite[j] - finite[i]) * f;
    };
    return {at(lowQuantile), at(highQuantile)};
}

std::pair<double, double> axisRange(const std::vector<double>& values, bool ignoreOutliers, bool logScale) {
    std::vector<double> use;
    if (logScale) {
        for (double v : values)
            if (std::isfinite(v) && v > 0) use.push_back(v);
    }
    const auto& src = logScale ? use : values;
    // TensorBoard's ignoreOutliers: the 5th..95th percentile padded by 20 % of the span. (The 1st..99th
    // percentile interpolates 1 % of the way to a lone spike in a 100-point series, which is enough
    // for one grad-norm spike to flatten the whole chart.)
    auto [lo, hi] = ignoreOutliers ? quantileRange(src, 0.05, 0.95) : quantileRange(src, 0.0, 1.0);
    if (!std::isfinite(lo)) return logScale ? std::pair{0.1, 10.0} : std::pair{-1.0, 1.0};
    if (logScale) return {lo / 1.2, hi * 1.2};
    double span = hi - lo;
    if (span <= 0) {
        const double pad = lo == 0 ? 1.0 : 0.5 * std::abs(lo);
        return {lo - pad, hi + pad};
    }
    const double pad = (ignoreOutliers ? 0.2 : 0.05) * span;
    return {lo - pad, hi + pad};
}

}  // namespace xopd::widgets

#include "core/eval/Scores.h"

#include "core/common/Error.h"

namespace xopd::eval {

double accuracyPercent(int correct, int total) {
    XOPD_CHECK(total > 0, "accuracy of an empty set");
    XOPD_CHECK(correct >= 0 && correct <= total, "accuracy: " << correct << " correct out of " << total);
    return 100.0 * correct / total;
}

double relativeDrop(double base_t, double score) {
    XOPD_CHECK(base_t > 0.0, "Avg. Drop: the text baseline score must be > 0, got " << base_t);
    return 100.0 * (base_t - score) / base_t;
}

double averageDrop(const std::vector<double>& base_t, const std::vector<double>& scores) {
    XOPD_CHECK(!scores.empty() && base_t.size() == scores.size(),
               "Avg. Drop: " << base_t.size() << " baselines for " << scores.size() << " scores");
    double sum = 0.0;
    for (size_t i = 0; i < scores.size(); ++i) sum += relativeDrop(base_t[i], scores[i]);
    return sum / static_cast<double>(scores.size());
}

}  // namespace xopd::eval

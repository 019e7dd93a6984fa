#include "core/model/runtime/VocabMask.h"

#include <limits>

namespace xopd::model {

torch::Tensor sharedVocabMask(const VocabAlignment& a, int64_t rows) {
    torch::Tensor m = torch::zeros({rows}, torch::kBool);
    m.narrow(0, 0, std::min(rows, a.regular_end)).fill_(true);
    for (int64_t id : a.excluded)
        if (id < rows) m[id] = false;
    for (int64_t id : a.shared_specials)
        if (id < rows) m[id] = true;
    return m;
}

torch::Tensor maskUnsharedLogits(const torch::Tensor& logits, const VocabAlignment& a) {
    torch::Tensor m = sharedVocabMask(a, logits.size(-1)).to(logits.device());
    return logits.masked_fill(~m, -std::numeric_limits<float>::infinity());
}

}  // namespace xopd::model

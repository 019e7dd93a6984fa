#include "core/model/checkpoint/TokenizerChecks.h"

#include "core/common/Error.h"

#include <algorithm>

namespace xopd {

void validateEosIds(const std::vector<int64_t>& eos_token_ids, int64_t embedding_rows, const text::Tokenizer& tokenizer,
                    const std::string& source) {
    const int64_t limit = std::max<int64_t>(int64_t(tokenizer.size()), embedding_rows);
    for (int64_t id : eos_token_ids)
        XOPD_CHECK(id >= 0 && id < limit, "'" << source << "': eos_token_id " << id << " is outside the vocabulary");
}

}  // namespace xopd

#include "core/text/BpeModel.h"

#include "core/common/Error.h"
#include "core/text/ByteLevel.h"

#include <algorithm>
#include <queue>

namespace xopd::text {

namespace {
// Pieces up to this many bytes use the quadratic scan (fast for words); longer ones a heap.
constexpr size_t kSmallPiece = 48;
}  // namespace

BpeModel::BpeModel(const TokenizerFiles& files) : vocab_(files.vocab) {
    const std::string& src = files.source;
    int32_t maxId = -1;
    for (const auto& [tok, id] : vocab_) {
        XOPD_CHECK(id >= 0 && id < kMaxTokenIds, "'" << src << "': vocabulary token \"" << tok << "\" has id "
                                                     << id << " (unchecked files: see checkTokenIds())");
        maxId = std::max(maxId, id);
    }
    tokens_.assign(static_cast<size_t>(maxId + 1), std::string());
    bytes_.assign(static_cast<size_t>(maxId + 1), std::string());
    for (const auto& [tok, id] : vocab_) {
        XOPD_CHECK(tokens_[id].empty(), "'" << src << "': id " << id << " is used by both \"" << tokens_[id]
                                            << "\" and \"" << tok << "\"");
        tokens_[id] = tok;
        auto raw = symbolsToBytes(tok);
        // Tokens outside the byte alphabet cannot come out of the merges; keep their text.
        bytes_[id] = raw ? *raw : tok;
    }
    for (int b = 0; b < 256; ++b) {
        const std::string& sym = byteToSymbol(static_cast<uint8_t>(b));
        const auto it = vocab_.find(sym);
        XOPD_CHECK(it != vocab_.end(), "'" << src << "': byte " << b << " (symbol \"" << sym
                                           << "\") is missing from the vocabulary: not a byte-level BPE");
        byteIds_[b] = it->second;
    }
    merges_.reserve(files.merges.size());
    std::string joined;
    for (size_t rank = 0; rank < files.merges.size(); ++rank) {
        const auto& [a, b] = files.merges[rank];
        const auto ia = vocab_.find(a);
        const auto ib = vocab_.find(b);
        joined = a;
        joined += b;
        const auto im = vocab_.find(joined);
        XOPD_CHECK(ia != vocab_.end() && ib != vocab_.end() && im != vocab_.end(),
                   "'" << src << "': merge " << rank << " (\"" << a << "\" \"" << b << "\") uses a token that is not in "
                       << "the vocabulary (\"" << (ia == vocab_.end() ? a : ib == vocab_.end() ? b : joined) << "\")");
        // A repeated pair keeps its last rank, as HF tokenizers (map insertion) do.
        merges_[key(ia->second, ib->second)] = Merge{static_cast<int32_t>(rank), im->second};
    }
}

int32_t BpeModel::tokenId(const std::string& token) const {
    const auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::encodePiece(std::string_view bytes, std::vector<int32_t>& out) const {
    if (bytes.empty()) return;
    if (bytes.size() == 1) {
        out.push_back(byteIds_[static_cast<uint8_t>(bytes[0])]);
        return;
    }
    std::vector<int32_t> ids(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) ids[i] = byteIds_[static_cast<uint8_t>(bytes[i])];
    if (ids.size() <= kSmallPiece)
        mergeSmall(ids);
    else
        mergeLarge(ids);
    out.insert(out.end(), ids.begin(), ids.end());
}

void BpeModel::mergeSmall(std::vector<int32_t>& ids) const {
    size_t n = ids.size();
    while (n > 1) {
        int32_t bestRank = INT32_MAX;
        size_t best = 0;
        int32_t merged = -1;
        for (size_t i = 0; i + 1 < n; ++i) {
            const Merge* m = find(ids[i], ids[i + 1]);
            if (m && m->rank < bestRank) {
                bestRank = m->rank;
                best = i;
                merged = m->merged;
            }
        }
        if (merged < 0) break;
        ids[best] = merged;
        std::copy(ids.begin() + best + 2, ids.begin() + n, ids.begin() + best + 1);
        --n;
    }
    ids.resize(n);
}

void BpeModel::mergeLarge(std::vector<int32_t>& ids) const {
    // Linked list of symbols plus a min-heap of candidate merges ordered by (rank, position).
    // Entries made stale by an earlier merge are recognised and skipped when popped.
    const auto n = static_cast<int32_t>(ids.size());
    std::vector<int32_t> prev(n), next(n);
    std::vector<char> alive(n, 1);
    for (int32_t i = 0; i < n; ++i) {
        prev[i] = i - 1;
        next[i] = (i + 1 < n) ? i + 1 : -1;
    }
    struct Cand {
        int32_t rank, pos, merged;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
    auto push = [&](int32_t pos) {
        if (pos < 0 || next[pos] < 0) return;
        if (const Merge* m = find(ids[pos], ids[next[pos]])) heap.push({m->rank, pos, m->merged});
    };
    for (int32_t i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
        const Cand c = heap.top();
        heap.pop();
        if (!alive[c.pos] || next[c.pos] < 0) continue;
        const Merge* m = find(ids[c.pos], ids[next[c.pos]]);
        if (!m || m->rank != c.rank || m->merged != c.merged) continue;
        const int32_t right = next[c.pos];
        ids[c.pos] = c.merged;
        alive[right] = 0;
        next[c.pos] = next[right];
        if (next[right] >= 0) prev[next[right]] = c.pos;
        push(prev[c.pos]);
        push(c.pos);
    }
    size_t k = 0;
    for (int32_t i = 0; i < n; ++i)
        if (alive[i]) ids[k++] = ids[i];
    ids.resize(k);
}

}  // namespace xopd::text

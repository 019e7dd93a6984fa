#include "core/distill/DataOrder.h"

#include "core/common/Error.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace xopd::distill {

DataOrder::DataOrder(int64_t size, uint64_t seed) : size_(size), seed_(seed) {
    XOPD_CHECK(size > 0, "the prompt set is empty");
    perm_ = permutation(0);
}

std::vector<int64_t> DataOrder::permutation(int64_t epoch) const {
    std::vector<int64_t> p(static_cast<size_t>(size_));
    std::iota(p.begin(), p.end(), 0);
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) * 0xBF58476D1CE4E5B9ULL + 1);
    // Fisher-Yates with our own index draw: std::shuffle's use of the engine is unspecified.
    for (int64_t i = size_ - 1; i > 0; --i) {
        const int64_t j = int64_t(rng() % uint64_t(i + 1));
        std::swap(p[size_t(i)], p[size_t(j)]);
    }
    return p;
}

std::vector<int64_t> DataOrder::next(int64_t count) {
    std::vector<int64_t> out;
    out.reserve(size_t(count));
    while (int64_t(out.size()) < count) {
        if (cursor_ >= size_) {
            ++epoch_;
            cursor_ = 0;
            perm_ = permutation(epoch_);
        }
        out.push_back(perm_[size_t(cursor_++)]);
    }
    return out;
}

void DataOrder::restore(int64_t epoch, int64_t cursor) {
    XOPD_CHECK(epoch >= 0 && cursor >= 0 && cursor <= size_,
               "data order state (epoch " << epoch << ", cursor " << cursor << ") does not fit " << size_ << " prompts");
    epoch_ = epoch;
    cursor_ = cursor;
    perm_ = permutation(epoch_);
}

}  // namespace xopd::distill

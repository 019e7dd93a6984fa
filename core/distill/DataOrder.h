#pragma once
// Reproducible order in which prompts are visited: one permutation per epoch, a pure function of
// (seed, epoch), and a cursor. Its whole state is (epoch, cursor), so a resumed run continues with
// exactly the batches the uninterrupted run would have seen.
//
// Threading: plain value; one thread at a time.

#include <cstdint>
#include <vector>

namespace xopd::distill {

class DataOrder {
public:
    /// `size` prompts (> 0), shuffled with `seed`.
    DataOrder(int64_t size, uint64_t seed);

    /// The next `count` prompt indices; wraps into the next epoch (with a new permutation).
    std::vector<int64_t> next(int64_t count);

    int64_t epoch() const { return epoch_; }
    int64_t cursor() const { return cursor_; }
    /// Restores a state saved from epoch() / cursor().
    void restore(int64_t epoch, int64_t cursor);

    /// The permutation of one epoch.
    std::vector<int64_t> permutation(int64_t epoch) const;

private:
    int64_t size_;
    uint64_t seed_;
    int64_t epoch_ = 0;
    int64_t cursor_ = 0;
    std::vector<int64_t> perm_;
};

}  // namespace xopd::distill

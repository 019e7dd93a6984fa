#pragma once
// Key/value cache of a decoder: per layer, post-RoPE keys and values [B, nKV, capacity, D] in one
// preallocated buffer each (grown by doubling when full), plus the number of filled positions.
// A forward pass with T new tokens appends to every layer and then advances the length by T.
//
// Threading: one cache per generation loop; not synchronised. Lifetime: independent of the model.

#include "core/common/Tensors.h"

#include <vector>

namespace xopd::model {

class KvCache {
public:
    /// A cache for `layers` layers that reserves `capacity` positions on first use (grows if needed).
    explicit KvCache(int64_t layers = 0, int64_t capacity = 0);

    /// Writes k, v [B, nKV, T, D] of `layer` at positions length() … length()+T−1 and returns views
    /// of everything cached for that layer, [B, nKV, length()+T, D]. Does not advance length().
    std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

    /// Marks T more positions as filled; called once per forward after the last layer.
    void advance(int64_t t) { length_ += t; }

    /// Filled positions (the past length seen by the next forward).
    int64_t length() const { return length_; }

    /// Allocated positions.
    int64_t capacity() const { return capacity_; }

    int64_t layers() const { return static_cast<int64_t>(keys_.size()); }

    /// Bytes held by the allocated keys and values.
    int64_t bytes() const;

    /// Drops everything (keeps no memory).
    void reset();

private:
    std::vector<torch::Tensor> keys_, values_;
    int64_t length_ = 0;
    int64_t capacity_ = 0;
    int64_t reserve_ = 0;
};

}  // namespace xopd::model

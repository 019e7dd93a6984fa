#include "core/model/runtime/KvCache.h"

#include "core/common/Error.h"

namespace xopd::model {

KvCache::KvCache(int64_t layers, int64_t capacity) : keys_(layers), values_(layers), reserve_(capacity) {}

void KvCache::reset() {
    for (auto& t : keys_) t = torch::Tensor();
    for (auto& t : values_) t = torch::Tensor();
    length_ = 0;
    capacity_ = 0;
}

std::pair<torch::Tensor, torch::Tensor> KvCache::append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v) {
    XOPD_CHECK(layer >= 0 && layer < layers(), "KvCache: layer " << layer << " out of range (" << layers() << ")");
    const int64_t t = k.size(2);
    const int64_t needed = length_ + t;
    torch::Tensor& kb = keys_[layer];
    torch::Tensor& vb = values_[layer];
    if (!kb.defined() || kb.size(2) < needed) {
        int64_t cap = std::max<int64_t>({needed, reserve_, kb.defined() ? 2 * kb.size(2) : 0});
        auto sizes = k.sizes().vec();
        sizes[2] = cap;
        torch::Tensor nk = torch::empty(sizes, k.options());
        torch::Tensor nv = torch::empty(sizes, v.options());
        if (kb.defined() && length_ > 0) {
            nk.narrow(2, 0, length_).copy_(kb.narrow(2, 0, length_));
            nv.narrow(2, 0, length_).copy_(vb.narrow(2, 0, length_));
        }
        kb = nk;
        vb = nv;
        capacity_ = std::max(capacity_, cap);
    }
    XOPD_CHECK(kb.size(0) == k.size(0), "KvCache: batch " << k.size(0) << " differs from the cached batch " << kb.size(0));
    kb.narrow(2, length_, t).copy_(k);
    vb.narrow(2, length_, t).copy_(v);
    return {kb.narrow(2, 0, needed), vb.narrow(2, 0, needed)};
}

int64_t KvCache::bytes() const {
    int64_t n = 0;
    for (const auto* side : {&keys_, &values_})
        for (const auto& t : *side)
            if (t.defined()) n += int64_t(t.nbytes());
    return n;
}

}  // namespace xopd::model

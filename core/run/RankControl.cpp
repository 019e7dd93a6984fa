#include "core/run/RankControl.h"

#include "core/common/Error.h"
#include "core/distill/Knobs.h"

namespace xopd::run {

ControlMessage exchangeControl(dist::Group& group, const ControlMessage& mine) {
    XOPD_CHECK(mine.knobs.size() <= kKnobsPerTurn, "control: " << mine.knobs.size() << " hot edits in one turn");
    const auto& table = distill::hotKnobs();
    // [flags, knob count, (knob index, value) × kKnobsPerTurn] as float64: values travel exactly.
    auto msg = torch::zeros({int64_t(2 + 2 * kKnobsPerTurn)}, torch::kDouble);
    auto* m = msg.data_ptr<double>();
    m[0] = (mine.stop ? 1 : 0) + (mine.cancel ? 2 : 0) + (mine.pause ? 4 : 0);
    m[1] = double(mine.knobs.size());
    for (size_t i = 0; i < mine.knobs.size(); ++i) {
        size_t k = 0;
        while (k < table.size() && mine.knobs[i].first != table[k].name) ++k;
        XOPD_CHECK(k < table.size(), "control: '" << mine.knobs[i].first << "' is not a hot knob");
        m[2 + 2 * i] = double(k);
        m[3 + 2 * i] = mine.knobs[i].second;
    }
    std::vector<torch::Tensor> t{msg};
    group.broadcast(t, 0);
    m = t[0].data_ptr<double>();
    ControlMessage out;
    const int flags = int(m[0]);
    out.stop = flags & 1;
    out.cancel = flags & 2;
    out.pause = flags & 4;
    const size_t n = size_t(m[1]);
    XOPD_CHECK(n <= kKnobsPerTurn, "control: rank 0 sent " << n << " hot edits");
    for (size_t i = 0; i < n; ++i) {
        const size_t k = size_t(m[2 + 2 * i]);
        XOPD_CHECK(k < table.size(), "control: rank 0 sent knob #" << k);
        out.knobs.emplace_back(table[k].name, m[3 + 2 * i]);
    }
    return out;
}

}  // namespace xopd::run

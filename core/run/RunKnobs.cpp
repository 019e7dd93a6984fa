#include "core/run/RunKnobs.h"

#include "core/distill/Knobs.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"

#include <filesystem>

namespace xopd::run {

std::vector<KnobEdit> knobEdits(const std::string& run_dir) {
    std::vector<KnobEdit> out;
    std::error_code ec;
    if (!std::filesystem::exists(RunFolder(run_dir).metricsPath(), ec)) return out;
    RunReader reader(run_dir);
    for (const auto& e : reader.eventsSince(0))
        if (e.kind == event_kind::kKnob) out.push_back({e.name, e.value, e.step + 1});
    return out;
}

distill::DistillConfig configInForce(const std::string& run_dir) {
    distill::DistillConfig c = RunFolder(run_dir).readConfig();
    for (const auto& k : knobEdits(run_dir)) distill::setKnobValue(c, distill::knob(k.name), k.value);
    return c;
}

}  // namespace xopd::run

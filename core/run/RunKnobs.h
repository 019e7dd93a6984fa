#pragma once
// The knobs a run runs with: its run.json config plus the hot edits it recorded (knob events in
// metrics.sqlite), in order. The monitor's hot-edit fields and the run comparison show these, not
// the config the run started from.
//
//   for (const auto& k : knobEdits(dir)) ...        // k.name, k.value, k.before_step
//   distill::DistillConfig c = configInForce(dir);   // c.loss.lambda is the λ in force
//
// Torch-free (widgets/ include it). Threading: free functions; each opens the run's store read-only.
// Errors: xopd::Error naming the file that cannot be read.

#include "core/distill/DistillConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::run {

/// One hot edit a run recorded.
struct KnobEdit {
    std::string name;         ///< knob name (distill::hotKnobs(): "lambda", "lr", ...)
    double value = 0.0;       ///< the new value
    int64_t before_step = 0;  ///< the first step that ran with it
};

/// The hot edits of the run in `run_dir`, in the order they were applied (none when it has no
/// metrics store yet).
std::vector<KnobEdit> knobEdits(const std::string& run_dir);

/// The run's config (run.json, validated) with its hot edits applied in order: the values in force.
distill::DistillConfig configInForce(const std::string& run_dir);

}  // namespace xopd::run

#pragma once
// The table of the run's hot-editable knobs: one row per knob (name, config field, type, range,
// default, help text, how a spin box shows it). It alone says what a knob's valid values are:
// config validation (DistillConfig::validate), the trainer's setters, the run controller's hot
// edits (RunControl::setKnob) and the GUI's spin boxes (set-up screen and run monitor) all read it.
//
//   const KnobSpec& k = knob("temperature");     // throws for an unknown name, listing the knobs
//   k.check(2.0, "knob 'temperature'");          // throws "knob 'temperature': must be in (0, 10], got …"
//   setKnobValue(config, k, 0.7);                // config.rollout.temperature = 0.7
//
// Torch-free (widgets/ include it). Threading: the table is immutable; everything is a pure function.

#include "core/distill/DistillConfig.h"

#include <string>
#include <vector>

namespace xopd::distill {

/// Value type of a knob. Zero is invalid.
enum class KnobType {
    Invalid = 0,
    Real,     ///< any finite number in range
    Integer,  ///< a whole number in range
};

/// One knob.
struct KnobSpec {
    /// Name in hot edits, events and the GUI ("lambda").
    const char* name;
    /// Field in the run config ("loss.lambda").
    const char* field;
    KnobType type;
    /// Range: min ≤ (or <, when min_open) value ≤ (or <, when max_open) max.
    double min;
    double max;
    bool min_open;
    bool max_open;
    /// Short label for the GUI ("λ").
    const char* label;
    /// One line for tooltips and `--help`.
    const char* help;
    /// Spin box presentation: decimals shown and the arrow-key step.
    int decimals;
    double step;

    /// True when `value` is finite, in range and (Integer) whole.
    bool accepts(double value) const;
    /// "[0, 1]", "(0, 10]", "[1, ∞)".
    std::string rangeText() const;
    /// "in [0, 1]", "a whole number in [0, ∞)".
    std::string requirement() const;
    /// Throws xopd::Error "WHERE: must be REQUIREMENT, got VALUE" unless accepts(value).
    void check(double value, const std::string& where) const;
    /// The value of defaultDistillConfig(Method::XOpd).
    double defaultValue() const;
    /// The smallest and largest value a spin box with `decimals` can offer inside the range.
    double spinMinimum() const;
    double spinMaximum() const;
};

/// Every hot-editable knob, in display order: lambda, lr, temperature, max_steps.
const std::vector<KnobSpec>& hotKnobs();

/// The knob called `name`. Throws xopd::Error for an unknown name, listing the knobs.
const KnobSpec& knob(const std::string& name);

/// The knob's value in a config.
double knobValue(const DistillConfig& config, const KnobSpec& knob);
/// Sets the knob's field in a config (after k.check(value, ...)).
void setKnobValue(DistillConfig& config, const KnobSpec& knob, double value);

}  // namespace xopd::distill

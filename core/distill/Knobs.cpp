#include "core/distill/Knobs.h"

#include "core/common/Error.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace xopd::distill {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "∞" : "-∞";
    std::ostringstream os;
    os << v;
    return os.str();
}

}  // namespace

bool KnobSpec::accepts(double v) const {
    if (!std::isfinite(v)) return false;
    if (type == KnobType::Integer && v != std::floor(v)) return false;
    const bool aboveMin = min_open ? v > min : v >= min;
    const bool belowMax = max_open ? v < max : v <= max;
    return aboveMin && belowMax;
}

std::string KnobSpec::rangeText() const {
    return std::string(min_open ? "(" : "[") + number(min) + ", " + number(max) + (max_open || std::isinf(max) ? ")" : "]");
}

std::string KnobSpec::requirement() const {
    return std::string(type == KnobType::Integer ? "a whole number " : "") + "in " + rangeText();
}

void KnobSpec::check(double value, const std::string& where) const {
    XOPD_CHECK(accepts(value), where << ": must be " << requirement() << ", got " << value);
}

double KnobSpec::defaultValue() const { return knobValue(defaultDistillConfig(Method::XOpd), *this); }

double KnobSpec::spinMinimum() const {
    const double quantum = std::pow(10.0, -decimals);
    return min_open ? min + quantum : min;
}

double KnobSpec::spinMaximum() const {
    const double quantum = std::pow(10.0, -decimals);
    if (std::isinf(max)) return 1e9;  // a spin box needs a finite maximum
    return max_open ? max - quantum : max;
}

const std::vector<KnobSpec>& hotKnobs() {
    // name, field, type, min, max, min_open, max_open, label, help, decimals, step
    static const std::vector<KnobSpec> table{
        {"lambda", "loss.lambda", KnobType::Real, 0.0, 1.0, false, false, "λ",
         "λ: weight of the in-modal (text) stream; 1 − λ weighs the speech stream", 2, 0.05},
        {"lr", "train.lr", KnobType::Real, 0.0, 1.0, true, true, "lr", "Learning rate (AdamW)", 9, 1e-6},
        // Above 10 the sampler is close to uniform over the vocabulary: nothing to learn from.
        {"temperature", "rollout.temperature", KnobType::Real, 0.0, 10.0, true, false, "temperature",
         "Sampling temperature of the rollouts", 2, 0.05},
        {"max_steps", "train.max_steps", KnobType::Integer, 0.0, kInf, false, false, "max steps",
         "Optimizer steps (0 = epochs over the prompt set)", 0, 1},
    };
    return table;
}

const KnobSpec& knob(const std::string& name) {
    std::ostringstream names;
    for (const auto& k : hotKnobs()) {
        if (name == k.name) return k;
        names << (names.tellp() ? ", " : "") << k.name;
    }
    XOPD_FAIL("unknown knob '" << name << "' (hot-editable: " << names.str() << ")");
}

double knobValue(const DistillConfig& c, const KnobSpec& k) {
    const std::string n = k.name;
    if (n == "lambda") return c.loss.lambda;
    if (n == "lr") return c.train.lr;
    if (n == "temperature") return c.rollout.temperature;
    if (n == "max_steps") return double(c.train.max_steps);
    XOPD_FAIL("internal error: knob '" << n << "' has no config field");
}

void setKnobValue(DistillConfig& c, const KnobSpec& k, double value) {
    const std::string n = k.name;
    if (n == "lambda") c.loss.lambda = value;
    else if (n == "lr") c.train.lr = value;
    else if (n == "temperature") c.rollout.temperature = value;
    else if (n == "max_steps") c.train.max_steps = int64_t(value);
    else XOPD_FAIL("internal error: knob '" << n << "' has no config field");
}

}  // namespace xopd::distill

#pragma once
// A spin box for one knob of the run's knob table (core/distill/Knobs.h): its range, decimals,
// step, tooltip and default come from the table, so the set-up screen and the run monitor offer
// exactly the values the run accepts. GUI thread only.

#include "core/distill/Knobs.h"

class QDoubleSpinBox;
class QSpinBox;
class QWidget;

namespace xopd::widgets {

/// A QDoubleSpinBox for a Real knob ("lambda", "lr", "temperature"), set to the knob's default.
QDoubleSpinBox* makeKnobSpinBox(const distill::KnobSpec& knob, QWidget* parent);

/// A QSpinBox for an Integer knob ("max_steps"), set to the knob's default.
QSpinBox* makeIntegerKnobSpinBox(const distill::KnobSpec& knob, QWidget* parent);

}  // namespace xopd::widgets

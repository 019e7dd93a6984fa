#include "widgets/common/KnobSpinBox.h"

#include <QDoubleSpinBox>
#include <QSpinBox>

#include <algorithm>
#include <limits>

namespace xopd::widgets {

QDoubleSpinBox* makeKnobSpinBox(const distill::KnobSpec& knob, QWidget* parent) {
    auto* s = new QDoubleSpinBox(parent);
    s->setDecimals(knob.decimals);
    s->setRange(knob.spinMinimum(), knob.spinMaximum());
    s->setSingleStep(knob.step);
    s->setToolTip(QString("%1 (%2)").arg(QString::fromUtf8(knob.help), QString::fromStdString(knob.rangeText())));
    s->setValue(knob.defaultValue());
    return s;
}

QSpinBox* makeIntegerKnobSpinBox(const distill::KnobSpec& knob, QWidget* parent) {
    auto* s = new QSpinBox(parent);
    const double intMax = double(std::numeric_limits<int>::max());
    s->setRange(int(std::max(-intMax, knob.spinMinimum())), int(std::min(intMax, knob.spinMaximum())));
    s->setSingleStep(std::max(1, int(knob.step)));
    s->setToolTip(QString("%1 (%2)").arg(QString::fromUtf8(knob.help), QString::fromStdString(knob.rangeText())));
    s->setValue(int(knob.defaultValue()));
    return s;
}

}  // namespace xopd::widgets

#include "widgets/common/KnobSpinBox.h"

#include <QDoubleSpinBox>
#include <QFontMetrics>
#include <QLocale>
#include <QRegularExpression>
#include <QSpinBox>

#include <algorithm>
#include <cmath>
#include <limits>

namespace xopd::widgets {

namespace {

/// QDoubleSpinBox accepts only fixed notation: "5e-5", how researchers write learning rates, was
/// refused. This one also reads and writes scientific notation (and still any fixed number), in the
/// C locale so that a comma never becomes the decimal separator.
class ScientificSpinBox : public QDoubleSpinBox {
public:
    using QDoubleSpinBox::QDoubleSpinBox;

    QValidator::State validate(QString& text, int&) const override {
        const QString t = text.trimmed();
        if (t.isEmpty() || t == "-" || t == "+" || t.endsWith('e', Qt::CaseInsensitive) || t.endsWith("e-", Qt::CaseInsensitive) ||
            t.endsWith("e+", Qt::CaseInsensitive) || t.endsWith('.'))
            return QValidator::Intermediate;
        bool ok = false;
        const double v = QLocale::c().toDouble(t, &ok);
        if (!ok) return QValidator::Invalid;
        return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    }
    double valueFromText(const QString& text) const override { return QLocale::c().toDouble(text.trimmed()); }
    QString textFromValue(double value) const override {
        // Small magnitudes read best as 5e-05; others as plain numbers without trailing zeros.
        if (value != 0.0 && std::abs(value) < 1e-3) return QLocale::c().toString(value, 'g', 6);
        return QLocale::c().toString(value, 'f', decimals()).remove(QRegularExpression("\\.?0+$"));
    }
    void fixup(QString& text) const override {
        bool ok = false;
        const double v = QLocale::c().toDouble(text.trimmed(), &ok);
        if (ok) text = textFromValue(std::clamp(v, minimum(), maximum()));
    }
    // QAbstractSpinBox sizes itself for the texts of its minimum and maximum ("0" and "1" for λ),
    // which clipped 0.55 to "0.": widen it for the values one step inside the range too.
    QSize sizeHint() const override { return widened(QDoubleSpinBox::sizeHint()); }
    QSize minimumSizeHint() const override { return widened(QDoubleSpinBox::minimumSizeHint()); }

private:
    QSize widened(QSize size) const {
        const QFontMetrics fm(font());
        auto width = [&fm, this](double v) { return fm.horizontalAdvance(textFromValue(v)); };
        const int sized = std::max(width(minimum()), width(maximum()));
        const int needed = std::max(width(minimum() + singleStep()), width(maximum() - singleStep()));
        if (needed > sized) size.rwidth() += needed - sized;
        return size;
    }
};

}  // namespace

QDoubleSpinBox* makeKnobSpinBox(const distill::KnobSpec& knob, QWidget* parent) {
    auto* s = new ScientificSpinBox(parent);
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

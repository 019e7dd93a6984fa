#include "widgets/tokens/TokenMetrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace xopd::widgets {

QString tokenMetricName(TokenMetric metric) {
    switch (metric) {
        case TokenMetric::Advantage: return "Advantage A (A_cm speech / A_im text)";
        case TokenMetric::ModalityGap: return "Student modality gap log π(y|T) − log π(y|S)";
        case TokenMetric::TeacherLogprob: return "Teacher log-prob";
        case TokenMetric::StudentLogprob: return "Student log-prob";
        case TokenMetric::Entropy: return "Student entropy (nats)";
        default: return "invalid";
    }
}

bool tokenMetricIsSigned(TokenMetric metric) { return metric == TokenMetric::Advantage || metric == TokenMetric::ModalityGap; }

double tokenMetricValue(const TokenRecord& t, const std::string& stream, TokenMetric metric) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    switch (metric) {
        case TokenMetric::Advantage: return t.masked ? nan : double(t.advantage);
        case TokenMetric::ModalityGap:
            if (!std::isfinite(t.student_other_logprob)) return nan;
            // speech row: own prompt is S, other is T; text row: own is T, other is S.
            return stream == "speech" ? double(t.student_other_logprob) - t.student_logprob
                                      : double(t.student_logprob) - t.student_other_logprob;
        case TokenMetric::TeacherLogprob: return t.teacher_logprob;
        case TokenMetric::StudentLogprob: return t.student_logprob;
        case TokenMetric::Entropy: return t.entropy;
        default: return nan;
    }
}

namespace {
QColor mix(const QColor& a, const QColor& b, double f) {
    f = std::clamp(f, 0.0, 1.0);
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * f), float(a.greenF() + (b.greenF() - a.greenF()) * f),
                            float(a.blueF() + (b.blueF() - a.blueF()) * f));
}
}  // namespace

QColor divergingColor(double value, double bound) {
    if (!std::isfinite(value)) return QColor(0xdd, 0xdd, 0xdd);
    if (!(bound > 0)) bound = 1.0;
    const double f = std::clamp(value / bound, -1.0, 1.0);
    static const QColor blue(0x21, 0x66, 0xac), orange(0xb3, 0x58, 0x06);
    return f >= 0 ? mix(Qt::white, blue, f) : mix(Qt::white, orange, -f);
}

QColor sequentialColor(double value, double bound) {
    if (!std::isfinite(value)) return QColor(0xdd, 0xdd, 0xdd);
    if (!(bound > 0)) bound = 1.0;
    return mix(Qt::white, QColor(0x54, 0x27, 0x8f), std::clamp(value / bound, 0.0, 1.0));
}

bool wantsWhiteText(const QColor& bg) {
    const double brightness = 0.299 * bg.redF() + 0.587 * bg.greenF() + 0.114 * bg.blueF();
    return brightness < 0.6;
}

QString visibleWhitespace(const QString& piece) {
    QString out;
    out.reserve(piece.size());
    for (QChar c : piece) {
        if (c == ' ') out += QChar(0x00B7);
        else if (c == '\n') out += QChar(0x00B6);  // ¶, as the spec asks
        else if (c == '\t') out += QChar(0x2192);
        else if (c == '\r') out += QChar(0x240D);
        else out += c;
    }
    return out;
}

}  // namespace xopd::widgets

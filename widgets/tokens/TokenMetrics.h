#pragma once
// What the token view can colour by, the colour scales, and the visible-whitespace rendering of
// token pieces. Pure functions, any thread (QColor/QString only).

#include "core/run/RunEvents.h"

#include <QColor>
#include <QString>

namespace xopd::widgets {

enum class TokenMetric {
    Invalid = 0,
    Advantage,       ///< A = log π_teacher − log π_student (A_cm on the speech row, A_im on the text row)
    ModalityGap,     ///< log π_θ(y|T) − log π_θ(y|S) (the student's own modality gap)
    TeacherLogprob,  ///< log π_teacher(y_t)
    StudentLogprob,  ///< log π_student(y_t) under the row's prompt
    Entropy,         ///< the student's entropy at the position (nats)
};

/// Display name of a metric ("A (A_cm / A_im)", ...).
QString tokenMetricName(TokenMetric metric);
/// True for signed metrics drawn with the diverging palette.
bool tokenMetricIsSigned(TokenMetric metric);
/// The metric's value for one token of a batch of `stream` ("speech" or "text"); NaN if unknown.
double tokenMetricValue(const TokenRecord& token, const std::string& stream, TokenMetric metric);

/// Diverging palette (colour-blind-friendly orange ↔ white ↔ blue): white at 0, blue for positive
/// (teacher more confident), orange for negative, saturating at ±bound. NaN → light grey.
QColor divergingColor(double value, double bound);
/// Sequential palette white → purple over [0, bound] for non-negative metrics. NaN → light grey.
QColor sequentialColor(double value, double bound);
/// True when text on `background` should be white (perceived brightness below 0.6).
bool wantsWhiteText(const QColor& background);
/// Shows whitespace (spec/ux.md §3): space → ·, newline → ¶, tab → →, carriage return → ␍.
QString visibleWhitespace(const QString& piece);

}  // namespace xopd::widgets

#include "widgets/common/ElidedButton.h"

#include <QFontMetrics>
#include <QResizeEvent>

#include <algorithm>

namespace xopd::widgets {

namespace {
constexpr int kPadding = 24;        // frame and margins of the button's text
constexpr int kPreferredWidth = 160;  // what it asks for, whatever the text
}  // namespace

ElidedButton::ElidedButton(QWidget* parent) : QPushButton(parent) {
    setSizePolicy(QSizePolicy::Preferred, sizePolicy().verticalPolicy());
}

void ElidedButton::setFullText(const QString& text) {
    full_ = text;
    elide();
}

QSize ElidedButton::sizeHint() const {
    const QSize h = QPushButton::sizeHint();
    return {std::min(h.width(), kPreferredWidth), h.height()};
}

QSize ElidedButton::minimumSizeHint() const {
    const QSize h = QPushButton::minimumSizeHint();
    return {std::min(h.width(), fontMetrics().horizontalAdvance("MMM") + kPadding), h.height()};
}

void ElidedButton::resizeEvent(QResizeEvent* event) {
    QPushButton::resizeEvent(event);
    elide();
}

void ElidedButton::elide() {
    const QString shown = fontMetrics().elidedText(full_, Qt::ElideRight, std::max(0, width() - kPadding));
    if (shown != text()) setText(shown);
    setToolTip(shown == full_ ? QString() : full_);
}

}  // namespace xopd::widgets

#pragma once
// A push button whose text is elided ("A = student answer 1 (T…") to the width the layout gives
// it, with the full text in its tooltip, so a long label never widens the window. GUI thread only.

#include <QPushButton>

namespace xopd::widgets {

class ElidedButton : public QPushButton {
    Q_OBJECT
public:
    explicit ElidedButton(QWidget* parent = nullptr);
    /// The text to show (elided as needed); also the tooltip when elided.
    void setFullText(const QString& text);
    QString fullText() const { return full_; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void elide();
    QString full_;
};

}  // namespace xopd::widgets

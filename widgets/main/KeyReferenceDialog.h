#pragma once
// The F2 key reference window: keyReferenceHtml() of the main window's action groups in a
// read-only browser, regenerated each time it is shown. Modeless. GUI thread only.

#include "widgets/main/KeyReference.h"

#include <QDialog>
#include <functional>

class QTextBrowser;

namespace xopd::widgets {

class KeyReferenceDialog : public QDialog {
    Q_OBJECT
public:
    /// `groups` is called on every refresh, so actions added later are listed too.
    KeyReferenceDialog(std::function<QList<KeyGroup>()> groups, QWidget* parent = nullptr);
    /// Rebuilds the table from the actions.
    void refresh();
    QString html() const { return html_; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    std::function<QList<KeyGroup>()> groups_;
    QTextBrowser* browser_;
    QString html_;
};

}  // namespace xopd::widgets

#include "widgets/main/KeyReferenceDialog.h"

#include <QDialogButtonBox>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace xopd::widgets {

KeyReferenceDialog::KeyReferenceDialog(std::function<QList<KeyGroup>()> groups, QWidget* parent)
    : QDialog(parent), groups_(std::move(groups)), browser_(new QTextBrowser(this)) {
    setWindowTitle("Key reference");
    setModal(false);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    auto* l = new QVBoxLayout(this);
    l->addWidget(browser_);
    l->addWidget(buttons);
    resize(760, 640);
    refresh();
}

void KeyReferenceDialog::refresh() {
    html_ = keyReferenceHtml(groups_ ? groups_() : QList<KeyGroup>{});
    browser_->setHtml(html_);
}

void KeyReferenceDialog::showEvent(QShowEvent* event) {
    refresh();
    QDialog::showEvent(event);
}

}  // namespace xopd::widgets

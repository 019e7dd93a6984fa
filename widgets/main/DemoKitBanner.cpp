#include "widgets/main/DemoKitBanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>

namespace xopd::widgets {

DemoKitBanner::DemoKitBanner(QWidget* parent)
    : QWidget(parent),
      text_(new QLabel(this)),
      bar_(new QProgressBar(this)),
      build_(new QPushButton("&Build the demo kit", this)),
      cancel_(new QPushButton("Cancel", this)) {
    setObjectName("demoKitBanner");
    setAttribute(Qt::WA_StyledBackground, true);
    setStyleSheet("#demoKitBanner{background:#fff3cd;border:1px solid #e0c36a}"
                  "#demoKitBanner QLabel{color:#664d03;padding:4px}");
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    text_->setWordWrap(true);
    text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    text_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar_->setObjectName("demoKitProgress");
    bar_->setRange(0, 1000);
    bar_->setTextVisible(true);
    bar_->setMinimumWidth(220);
    build_->setObjectName("demoKitBuild");
    build_->setToolTip("Build the demo kit here, in the background (the toy models serve meanwhile)");
    cancel_->setObjectName("demoKitCancel");
    cancel_->setToolTip("Stop the build; nothing of it is kept");
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(6, 2, 6, 2);
    row->addWidget(text_, 1);
    row->addWidget(bar_);
    row->addWidget(build_);
    row->addWidget(cancel_);
    connect(build_, &QPushButton::clicked, this, &DemoKitBanner::buildRequested);
    connect(cancel_, &QPushButton::clicked, this, &DemoKitBanner::cancelRequested);
    showMissing({});
}

void DemoKitBanner::showMissing(const QString& problem) {
    problem_ = problem;
    building_ = false;
    text_->setText(QString("<b>The demo kit is missing.</b> Build it here (about 10 minutes on two cores, in the "
                           "background), or once with <code>xopd demo-kit build</code> (or set XOPD_DEMO_KIT to a kit "
                           "folder). Until then the set-up and Ask screens use the built-in toy models. "
                           "<span style='color:#8a6d3b'>(%1)</span>")
                       .arg(problem.toHtmlEscaped()));
    text_->setToolTip(problem);
    bar_->hide();
    cancel_->hide();
    build_->show();
    build_->setEnabled(true);
}

void DemoKitBanner::showBuilding(const QString& folder) {
    building_ = true;
    text_->setText(QString("<b>Building the demo kit</b> into %1 — the toy models serve meanwhile; the kit's models "
                           "and prompts come in when it is ready.")
                       .arg(folder.toHtmlEscaped()));
    text_->setToolTip(problem_);
    bar_->setValue(0);
    bar_->setFormat("starting…");
    bar_->show();
    cancel_->show();
    cancel_->setEnabled(true);
    build_->hide();
}

void DemoKitBanner::setProgress(double fraction, const QString& stage) {
    if (!building_) return;
    bar_->setValue(int(std::clamp(fraction, 0.0, 1.0) * 1000 + 0.5));
    bar_->setFormat(QString("%p % — ") + stage);
    bar_->setToolTip(stage);
}

void DemoKitBanner::showStopped(const QString& message) {
    showMissing(problem_);
    text_->setText(QString("<b>The demo kit is missing:</b> %1 Build it again here, or with <code>xopd demo-kit "
                           "build</code>. Until then the set-up and Ask screens use the built-in toy models.")
                       .arg(message.toHtmlEscaped()));
}

int DemoKitBanner::progressPermille() const { return bar_->value(); }

}  // namespace xopd::widgets

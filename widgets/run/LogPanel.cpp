#include "widgets/run/LogPanel.h"

#include <QCheckBox>
#include <QStringList>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QVBoxLayout>

namespace xopd::widgets {

namespace {
const char* levelName(LogLevel l) {
    switch (l) {
        case LogLevel::Debug: return "DEBUG";
        case LogLevel::Info: return "INFO";
        case LogLevel::Warning: return "WARN";
        case LogLevel::Error: return "ERROR";
        default: return "?";
    }
}
}  // namespace

LogPanel::LogPanel(QWidget* parent) : QWidget(parent) {
    text_ = new QPlainTextEdit(this);
    text_->setReadOnly(true);
    text_->setMaximumBlockCount(20000);
    text_->setFont(QFont("monospace", 9));
    level_ = new QComboBox(this);
    level_->addItem("Debug+", int(LogLevel::Debug));
    level_->addItem("Info+", int(LogLevel::Info));
    level_->addItem("Warnings+", int(LogLevel::Warning));
    level_->addItem("Errors", int(LogLevel::Error));
    level_->setCurrentIndex(1);
    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText("Filter log (text)");
    filter_->setClearButtonEnabled(true);
    pause_ = new QCheckBox("Pause", this);
    pause_->setToolTip("Stop scrolling new lines in (they are kept)");
    auto* bar = new QHBoxLayout;
    bar->addWidget(level_);
    bar->addWidget(filter_, 1);
    bar->addWidget(pause_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(bar);
    layout->addWidget(text_, 1);
    connect(level_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &LogPanel::refilter);
    connect(filter_, &QLineEdit::textChanged, this, &LogPanel::refilter);
    connect(pause_, &QCheckBox::toggled, this, [this](bool on) {
        if (!on) refilter();
    });
}

bool LogPanel::passes(const Entry& e) const {
    if (int(e.level) < level_->currentData().toInt()) return false;
    const QString f = filter_->text();
    return f.isEmpty() || e.message.contains(f, Qt::CaseInsensitive);
}

QString LogPanel::format(const Entry& e) const {
    return QString("%1 %2 %3").arg(e.time.toString("HH:mm:ss.zzz"), QString(levelName(e.level)).leftJustified(5), e.message);
}

void LogPanel::append(LogLevel level, const QString& message) {
    entries_.push_back({QDateTime::currentDateTime(), level, message});
    if (pause_->isChecked() || !passes(entries_.back())) return;
    text_->appendPlainText(format(entries_.back()));
    ++shown_;
}

void LogPanel::clear() {
    entries_.clear();
    refilter();
}

void LogPanel::refilter() {
    text_->clear();
    shown_ = 0;
    QStringList lines;
    for (const auto& e : entries_)
        if (passes(e)) {
            lines << format(e);
            ++shown_;
        }
    text_->setPlainText(lines.join('\n'));
    text_->moveCursor(QTextCursor::End);
}

int LogPanel::shownLines() const { return shown_; }

QStringList LogPanel::messages() const {
    QStringList out;
    for (const auto& e : entries_) out << e.message;
    return out;
}

}  // namespace xopd::widgets

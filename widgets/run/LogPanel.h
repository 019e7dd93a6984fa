#pragma once
// The run log: timestamped lines with a level, a minimum-level filter, a text filter and pause
// (while paused, lines are kept and shown on resume). GUI thread only.

#include "core/run/RunEvents.h"

#include <QDateTime>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPlainTextEdit;

namespace xopd::widgets {

class LogPanel : public QWidget {
    Q_OBJECT
public:
    explicit LogPanel(QWidget* parent = nullptr);
    void append(LogLevel level, const QString& message);
    void clear();
    /// Lines currently shown (after filters).
    int shownLines() const;
    int totalLines() const { return int(entries_.size()); }
    /// Every line's message, whatever the filters (tests, checks).
    QStringList messages() const;

private:
    struct Entry {
        QDateTime time;
        LogLevel level;
        QString message;
    };
    bool passes(const Entry& e) const;
    QString format(const Entry& e) const;
    void refilter();

    std::vector<Entry> entries_;
    QPlainTextEdit* text_;
    QComboBox* level_;
    QLineEdit* filter_;
    QCheckBox* pause_;
    int shown_ = 0;
};

}  // namespace xopd::widgets

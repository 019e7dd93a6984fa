#pragma once
// Error text for people: LibTorch's c10::Error appends a C++ backtrace ("Exception raised from …"
// followed by "frame #N: …" lines) to what(); the GUI shows the message without it (the full text
// still goes to the log). Pure function.

#include <QString>

namespace xopd::widgets {

/// `what` without a trailing LibTorch backtrace, trimmed.
inline QString userMessage(const QString& what) {
    QString m = what;
    const int cut = m.indexOf("Exception raised from");
    if (cut >= 0) m.truncate(cut);
    return m.trimmed();
}

}  // namespace xopd::widgets

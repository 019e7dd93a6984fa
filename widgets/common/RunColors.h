#pragma once
// Stable colours for runs: the colour of a run depends only on its id (FNV-1a hash into a
// colour-blind-friendly palette), so it is the same in every chart and every session. A user
// override (set by the run table) wins. GUI thread only.

#include <QColor>
#include <QHash>
#include <QString>

namespace xopd::widgets {

/// 32-bit FNV-1a hash of the UTF-8 bytes of `text`.
quint32 fnv1a(const QString& text);

/// The default colour of a run id; `dark` picks the variant for a dark background.
QColor defaultRunColor(const QString& runId, bool dark = false);

/// Process-wide overrides of run colours (persisted by the main window in QSettings).
class RunColors {
public:
    static QColor color(const QString& runId, bool dark = false);
    static void setOverride(const QString& runId, const QColor& color);
    static void clearOverride(const QString& runId);
    static QHash<QString, QColor>& overrides();
};

}  // namespace xopd::widgets

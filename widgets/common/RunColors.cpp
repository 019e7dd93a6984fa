#include "widgets/common/RunColors.h"

#include <array>

namespace xopd::widgets {

quint32 fnv1a(const QString& text) {
    quint32 h = 2166136261u;
    for (char c : text.toUtf8()) {
        h ^= quint8(c);
        h *= 16777619u;
    }
    return h;
}

QColor defaultRunColor(const QString& runId, bool dark) {
    // Okabe–Ito / Tableau-like colour-blind-friendly set; dark variants are lighter.
    static const std::array<const char*, 10> light = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                                      "#56B4E9", "#8C564B", "#7F7F7F", "#BCBD22", "#332288"};
    static const std::array<const char*, 10> darkSet = {"#4FA3E0", "#FF8A4C", "#3CCB9A", "#E59AC7", "#F5C04A",
                                                        "#8FD3FF", "#C49C94", "#C7C7C7", "#DBDB8D", "#8877DD"};
    const quint32 i = fnv1a(runId) % light.size();
    return QColor(dark ? darkSet[i] : light[i]);
}

QHash<QString, QColor>& RunColors::overrides() {
    static QHash<QString, QColor> map;
    return map;
}

QColor RunColors::color(const QString& runId, bool dark) {
    auto it = overrides().constFind(runId);
    if (it != overrides().constEnd()) return *it;
    return defaultRunColor(runId, dark);
}

void RunColors::setOverride(const QString& runId, const QColor& color) { overrides()[runId] = color; }
void RunColors::clearOverride(const QString& runId) { overrides().remove(runId); }

}  // namespace xopd::widgets

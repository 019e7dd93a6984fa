#include "widgets/main/KeyReference.h"

#include <QAction>
#include <QKeySequence>
#include <QSet>
#include <QStringList>

namespace xopd::widgets {

QString plainActionText(const QString& text) {
    QString t = text;
    t.replace("&&", "\x01");
    t.remove('&');
    t.replace("\x01", "&");
    while (t.endsWith("…") || t.endsWith("."))
        t.chop(1);
    return t.trimmed();
}

QList<QAction*> actionsWithShortcuts(const QList<KeyGroup>& groups) {
    QList<QAction*> out;
    QSet<QAction*> seen;
    for (const auto& g : groups)
        for (QAction* a : g.actions)
            if (a && !a->shortcuts().isEmpty() && !seen.contains(a)) {
                seen.insert(a);
                out << a;
            }
    return out;
}

QString keyReferenceHtml(const QList<KeyGroup>& groups) {
    QString h = "<html><body><table cellspacing='0' cellpadding='4' width='100%'>";
    QSet<QAction*> seen;
    for (const auto& g : groups) {
        QString rows;
        for (QAction* a : g.actions) {
            if (!a || a->shortcuts().isEmpty() || seen.contains(a)) continue;
            seen.insert(a);
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts()) keys << "<b>" + k.toString(QKeySequence::NativeText).toHtmlEscaped() + "</b>";
            rows += QString("<tr><td>%1</td><td style='white-space:nowrap'>%2</td><td>%3</td></tr>")
                        .arg(plainActionText(a->text()).toHtmlEscaped(), keys.join(" or "), a->statusTip().toHtmlEscaped());
        }
        if (rows.isEmpty()) continue;
        h += QString("<tr><td colspan='3' style='padding-top:10px'><h3 style='margin:0'>%1</h3></td></tr>").arg(g.title.toHtmlEscaped());
        h += rows;
    }
    h += "</table></body></html>";
    return h;
}

}  // namespace xopd::widgets

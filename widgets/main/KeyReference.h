#pragma once
// The F2 key reference (after Sonic Visualiser's KeyReference): a table generated from the
// application's QActions, grouped by screen, with each action's shortcut(s) and status tip. Because
// it is built from the actions themselves it cannot drift from the real key bindings.
// GUI thread only.

#include <QList>
#include <QPair>
#include <QString>

class QAction;

namespace xopd::widgets {

/// One group of the reference ("Global", "Live run monitor", ...) and its actions.
struct KeyGroup {
    QString title;
    QList<QAction*> actions;
};

/// Menu text without mnemonics or trailing ellipsis ("&Start run…" → "Start run").
QString plainActionText(const QString& text);

/// The reference as an HTML table: one row per action that has a shortcut (name, keys, what it
/// does), grouped by KeyGroup, in the given order; actions without a shortcut are left out.
QString keyReferenceHtml(const QList<KeyGroup>& groups);

/// Actions of `groups` that have at least one shortcut (the rows of the reference).
QList<QAction*> actionsWithShortcuts(const QList<KeyGroup>& groups);

}  // namespace xopd::widgets

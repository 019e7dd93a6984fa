#include "widgets/common/Theme.h"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

namespace xopd::widgets {

namespace {
ThemeKind gTheme = ThemeKind::Light;
}

QPalette themePalette(ThemeKind kind) {
    if (kind != ThemeKind::Dark) {
        static QStyle* fusion = QStyleFactory::create("Fusion");
        return fusion->standardPalette();
    }
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6);
    const QColor disabled(0x80, 0x80, 0x80), highlight(0x3d, 0x7e, 0xd6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
    p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x35, 0x37, 0x3b));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Light, QColor(0x45, 0x47, 0x4b));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::Mid, QColor(0x25, 0x26, 0x29));
    p.setColor(QPalette::Dark, QColor(0x1a, 0x1b, 0x1d));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xb6, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xb0, 0x8c, 0xff));
    for (auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText}) p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x50, 0x50, 0x50));
    return p;
}

PlotColors plotColors(ThemeKind kind) {
    if (kind == ThemeKind::Dark)
        return {QColor(0x1e, 0x1f, 0x22), QColor(0xd0, 0xd0, 0xd0), QColor(0x3a, 0x3c, 0x40), QColor(0xff, 0x55, 0x55)};
    return {Qt::white, QColor(0x30, 0x30, 0x30), QColor(0xe0, 0xe0, 0xe0), QColor(0xd6, 0x27, 0x28)};
}

void applyTheme(ThemeKind kind) {
    gTheme = kind == ThemeKind::Dark ? ThemeKind::Dark : ThemeKind::Light;
    QApplication::setStyle(QStyleFactory::create("Fusion"));
    QApplication::setPalette(themePalette(gTheme));
}

ThemeKind currentTheme() { return gTheme; }

}  // namespace xopd::widgets

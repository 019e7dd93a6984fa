#pragma once
// Light and dark appearance: the Fusion style with our own QPalette (Qt 6.4 has no
// QStyleHints::colorScheme), plus the plot colours that go with each background. Exports always
// use the light (white) plot colours. GUI thread only.

#include <QColor>
#include <QPalette>

namespace xopd::widgets {

enum class ThemeKind { Invalid = 0, Light, Dark };

/// Colours a chart uses on a given background.
struct PlotColors {
    QColor background;  ///< plot background
    QColor foreground;  ///< axes, ticks, labels
    QColor grid;        ///< major grid lines
    QColor nanMarker;   ///< marks for NaN/Inf points
};

/// The application palette for a theme.
QPalette themePalette(ThemeKind kind);
/// Plot colours for a theme.
PlotColors plotColors(ThemeKind kind);

/// Applies Fusion + the theme's palette to the running QApplication and remembers the choice.
void applyTheme(ThemeKind kind);
/// The theme last applied (Light before any call).
ThemeKind currentTheme();

}  // namespace xopd::widgets

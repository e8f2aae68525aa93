#pragma once

// What the pane benchmarks share: their output stream, and MainWindow shown at 1280x800 on one pane.

#include "MainWindow.h"

#include <QListWidget>
#include <QTextStream>

namespace opsdeck::bench {

inline QTextStream& out()
{
    static QTextStream stream(stdout);
    return stream;
}

// Shows the window at the size the issues' screenshots use, on the pane whose sidebar entry is `title`.
inline void showPane(MainWindow& window, const QString& title)
{
    window.resize(1280, 800);
    window.show();
    for (int i = 0; i < window.sidebar()->count(); ++i) {
        if (window.sidebar()->item(i)->text() == title)
            window.sidebar()->setCurrentRow(i);
    }
}

} // namespace opsdeck::bench

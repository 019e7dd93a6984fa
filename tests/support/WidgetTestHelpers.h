#pragma once
// Helpers that several widget tests need, kept once. Header-only.

#include "widgets/main/RunHistoryModel.h"
#include "widgets/run/RunBridge.h"
#include "widgets/run/RunMonitorWidget.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStringList>

namespace xopd::test {

/// What a run-history refresh ended with.
struct Refreshed {
    bool finished = false;  ///< the model announced the rows before the time-out
    QStringList problems;   ///< the problems the refresh reported (unreadable run folders, ...)
    /// The problems, or {"refresh timed out"} when it did not finish.
    QStringList outcome() const { return finished ? problems : QStringList{"refresh timed out"}; }
};

/// Refreshes the run history (the read runs on a worker thread) and waits until the rows are in.
inline Refreshed refreshAndWait(widgets::RunHistoryModel& model, int timeout_ms = 60000) {
    QSignalSpy done(&model, &widgets::RunHistoryModel::refreshed);
    model.refresh();
    Refreshed r;
    r.finished = done.wait(timeout_ms);
    if (r.finished) r.problems = done.at(0).at(0).toStringList();
    return r;
}

/// Waits (events processed) until the monitor's run is in `want`; whether it got there in time.
inline bool waitForRunState(widgets::RunMonitorWidget* m, RunState want, int timeout_ms = 60000) {
    QElapsedTimer t;
    t.start();
    QSignalSpy spy(m, &widgets::RunMonitorWidget::runStateChanged);
    while (t.elapsed() < timeout_ms) {
        if (m->bridge()->state() == want) return true;
        spy.wait(200);
    }
    return m->bridge()->state() == want;
}

}  // namespace xopd::test

#pragma once
// Reads run folders' metrics.sqlite (core run::RunReader) on worker threads, for the main window's
// "open / follow a run folder", overlay and resume: each read() runs on the QtConcurrent pool and
// its result comes back on the GUI thread as loaded(ticket, data), so the GUI thread never waits
// on SQLite (a run of many steps, or a database another process is writing, can take a while).
// Reads are independent; a caller that wants one at a time (following) keeps its ticket and skips
// while it is in flight, and drops results whose ticket it no longer expects.
//
// Threading: create and call on the GUI thread; the reads touch only their own RunReader.
// Lifetime: destroying the loader drops results still in flight (the reads finish on the pool).

#include "core/run/RunEvents.h"
#include "widgets/charts/MetricStore.h"

#include <QObject>
#include <QString>

#include <vector>

namespace xopd::run {
struct RunEventRecord;
}

namespace xopd::widgets {

/// What to read from one run folder.
struct RunFolderRequest {
    QString id;               ///< run id the data is for (metric store key)
    QString dir;              ///< run folder
    qint64 afterStep = 0;     ///< steps with step > afterStep ...
    qint64 upToStep = -1;     ///< ... and step <= upToStep (−1 = no bound)
    /// Token batches of the last `tokenSteps` steps read (−1 = none; a large value = all of them).
    qint64 tokenSteps = -1;
};

/// The result of one read.
struct RunFolderData {
    RunFolderRequest request;
    std::vector<StepMetrics> steps;
    std::vector<TokenDivergenceBatch> tokens;
    /// Pauses, resumes, hot edits and checkpoints of the steps read, from the run's events.
    std::vector<RunMark> marks;
    QString error;  ///< "" when the read succeeded (the core's message otherwise, naming the folder)
};

class RunFolderLoader : public QObject {
    Q_OBJECT
public:
    explicit RunFolderLoader(QObject* parent = nullptr);
    /// Starts a read; returns its ticket (never 0).
    quint64 read(const RunFolderRequest& request);
    /// Reads in flight.
    int pending() const { return inFlight_; }
    /// The read itself (blocking; any thread). Errors are returned in data.error, never thrown.
    static RunFolderData readNow(const RunFolderRequest& request);
    /// The chart marks of a run's events (in order), placed on the x axes by the steps' times.
    static std::vector<RunMark> marksOf(const std::vector<run::RunEventRecord>& events,
                                        const std::vector<StepMetrics>& steps);

signals:
    void loaded(quint64 ticket, const xopd::widgets::RunFolderData& data);

private:
    quint64 next_ = 0;
    int inFlight_ = 0;
};

}  // namespace xopd::widgets

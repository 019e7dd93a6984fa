#include "widgets/main/RunFolderLoader.h"

#include "core/run/RunStore.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <exception>

namespace xopd::widgets {

RunFolderLoader::RunFolderLoader(QObject* parent) : QObject(parent) {}

RunFolderData RunFolderLoader::readNow(const RunFolderRequest& request) {
    RunFolderData d;
    d.request = request;
    try {
        run::RunReader reader(request.dir.toStdString());
        d.steps = reader.stepsSince(request.afterStep);
        if (request.upToStep >= 0)
            d.steps.erase(std::remove_if(d.steps.begin(), d.steps.end(),
                                         [&](const StepMetrics& m) { return m.step > request.upToStep; }),
                          d.steps.end());
        if (request.tokenSteps >= 0 && !d.steps.empty()) {
            const qint64 from = std::max<qint64>(request.afterStep, d.steps.back().step - request.tokenSteps);
            d.tokens = reader.tokensSince(from);
        }
        std::vector<run::RunEventRecord> events = reader.eventsSince(0);
        events.erase(std::remove_if(events.begin(), events.end(),
                                    [&](const run::RunEventRecord& e) {
                                        return e.step < request.afterStep ||
                                               (request.upToStep >= 0 && e.step > request.upToStep);
                                    }),
                     events.end());
        d.marks = marksOf(events, d.steps);
    } catch (const std::exception& e) {
        d.steps.clear();
        d.tokens.clear();
        d.marks.clear();
        d.error = QString::fromUtf8(e.what());
    }
    return d;
}

std::vector<RunMark> RunFolderLoader::marksOf(const std::vector<run::RunEventRecord>& events,
                                              const std::vector<StepMetrics>& steps) {
    namespace kind = run::event_kind;
    std::vector<RunMark> out;
    bool paused = false;
    for (const auto& e : events) {
        RunMark m;
        m.step = double(e.step);
        m.unixS = e.unix_time_s;
        // Relative time: the step's, else the event's wall clock against the first step's.
        m.wallS = steps.empty() ? 0.0 : e.unix_time_s - steps.front().unix_time_s + steps.front().wall_time_s;
        for (const auto& s : steps)
            if (s.step == e.step) m.wallS = s.wall_time_s;
        if (e.kind == kind::kState && e.name == "paused") {
            paused = true;
            m.kind = RunMarkKind::Pause;
        } else if (e.kind == kind::kState && e.name == "running" && paused) {
            paused = false;
            m.kind = RunMarkKind::Resume;
        } else if (e.kind == kind::kResume && e.step > 0) {
            m.kind = RunMarkKind::Resume;
            m.text = QString::fromStdString(e.name);
        } else if (e.kind == kind::kKnob) {
            m.kind = RunMarkKind::HotEdit;
            m.text = QString::fromStdString(e.message);
        } else if (e.kind == kind::kCheckpoint) {
            m.kind = RunMarkKind::Checkpoint;
        } else {
            continue;
        }
        out.push_back(m);
    }
    return out;
}

quint64 RunFolderLoader::read(const RunFolderRequest& request) {
    const quint64 ticket = ++next_;
    ++inFlight_;
    // One watcher per read, deleted when it has delivered (reads may overlap).
    auto* watcher = new QFutureWatcher<RunFolderData>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, ticket] {
        --inFlight_;
        const RunFolderData d = watcher->result();
        watcher->deleteLater();
        emit loaded(ticket, d);
    });
    watcher->setFuture(QtConcurrent::run([request] { return readNow(request); }));
    return ticket;
}

}  // namespace xopd::widgets

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
    } catch (const std::exception& e) {
        d.steps.clear();
        d.tokens.clear();
        d.error = QString::fromUtf8(e.what());
    }
    return d;
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

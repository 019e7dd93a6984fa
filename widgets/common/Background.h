#pragma once
// Work off the GUI thread with its result back on it: `work` runs on Qt's thread pool; `done`
// (with the value) or `failed` (with the exception's message) runs later on `context`'s thread, and
// not at all when `context` is destroyed first. For the waits the GUI thread must not do itself:
// copying a checkpoint, synthesising speech, computing a spectrogram.
//
//   runInBackground(this, [dir] { return slowCopy(dir); },
//                   [this](QString child) { show(child); }, [this](QString e) { showError(e); });
//
// GUI thread only (the call); `work` must not touch widgets.

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace xopd::widgets {

template <typename Work, typename Done, typename Failed>
void runInBackground(QObject* context, Work work, Done done, Failed failed) {
    using Value = std::invoke_result_t<Work>;
    using Stored = std::conditional_t<std::is_void_v<Value>, bool, Value>;
    struct Outcome {
        std::optional<Stored> value;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Outcome>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                     [watcher, done = std::move(done), failed = std::move(failed)]() mutable {
                         watcher->deleteLater();
                         Outcome o = watcher->result();
                         if (!o.value) {
                             failed(o.error);
                         } else if constexpr (std::is_void_v<Value>) {
                             done();
                         } else {
                             done(std::move(*o.value));
                         }
                     });
    watcher->setFuture(QtConcurrent::run([work = std::move(work)]() mutable {
        Outcome o;
        try {
            if constexpr (std::is_void_v<Value>) {
                work();
                o.value = true;
            } else {
                o.value = work();
            }
        } catch (const std::exception& e) {
            o.error = QString::fromUtf8(e.what());
        }
        return o;
    }));
}

}  // namespace xopd::widgets

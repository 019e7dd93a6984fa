#pragma once
// Carries the events of one run from its worker thread to the GUI thread.
//
// The bridge implements xopd::RunObserver. On the worker thread each callback copies the event
// into a mutex-protected buffer and, if the buffer was empty, emits eventsQueued() which is
// connected with Qt::QueuedConnection to drain() on the GUI thread; the worker never waits for
// the GUI and the GUI never waits for the worker (the lock only guards a vector swap/push).
// drain() re-emits each event as a typed signal on the GUI thread, in order.
//
// Commands (start, pause, ...) go straight to RunControl, which returns at once. Exceptions from
// RunControl (e.g. a bad knob value) are caught and reported through commandFailed().
//
// Lifetime: attach() adds the bridge as observer; detach() (and the destructor) removes it. The
// RunControl must outlive the attachment. Create and use the bridge on the GUI thread.

#include "core/run/RunControl.h"
#include "core/run/RunEvents.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <mutex>
#include <variant>
#include <vector>

Q_DECLARE_METATYPE(xopd::StepMetrics)
Q_DECLARE_METATYPE(xopd::TokenDivergenceBatch)
Q_DECLARE_METATYPE(xopd::RunState)
Q_DECLARE_METATYPE(xopd::LogLevel)

namespace xopd::widgets {

/// Registers the run event types with Qt's meta-type system (idempotent).
void registerRunMetaTypes();

class RunBridge : public QObject, public RunObserver {
    Q_OBJECT
public:
    explicit RunBridge(QObject* parent = nullptr);
    ~RunBridge() override;

    /// Observes `control` (nullptr detaches). Does not take ownership.
    void attach(RunControl* control);
    void detach();
    RunControl* control() const { return control_; }

    // Commands; each returns at once. Failures are reported through commandFailed().
    void start();
    void pause();
    void resume();
    void stop();
    void cancel();
    /// Hot edit between steps ("lambda", "lr", "temperature").
    bool setKnob(const QString& name, double value);

    /// The last state seen on the GUI thread.
    RunState state() const { return state_; }
    /// Events drained so far (tests, benchmark).
    quint64 drainedEvents() const { return drained_; }
    /// Largest number of events handled in one drain.
    int largestDrain() const { return largestDrain_; }

    // RunObserver: worker thread.
    void onStateChanged(RunState state, const std::string& reason) override;
    void onStep(const StepMetrics& metrics) override;
    void onTokens(const TokenDivergenceBatch& batch) override;
    void onLog(LogLevel level, const std::string& message) override;
    void onCheckpoint(int64_t step, const std::string& folder) override;
    void onPlan(int64_t max_steps) override;

public slots:
    /// Moves the buffered events to the GUI thread's signals. Connected queued to eventsQueued().
    void drain();

signals:
    /// Emitted on the worker thread when the buffer goes from empty to non-empty.
    void eventsQueued();

    void stateChanged(xopd::RunState state, const QString& reason);
    void stepReceived(const xopd::StepMetrics& metrics);
    void tokensReceived(const xopd::TokenDivergenceBatch& batch);
    void logReceived(xopd::LogLevel level, const QString& message);
    void checkpointSaved(qint64 step, const QString& folder);
    void planChanged(qint64 maxSteps);
    /// A command threw; `what` is the message.
    void commandFailed(const QString& what);

private:
    struct StateEvent { RunState state; std::string reason; };
    struct LogEvent { LogLevel level; std::string message; };
    struct CheckpointEvent { int64_t step; std::string folder; };
    struct PlanEvent { int64_t maxSteps; };
    using Event = std::variant<StateEvent, StepMetrics, TokenDivergenceBatch, LogEvent, CheckpointEvent, PlanEvent>;
    void push(Event event);
    template <class F>
    void command(const char* name, F&& f);

    RunControl* control_ = nullptr;
    std::mutex mutex_;
    std::vector<Event> buffer_;
    RunState state_ = RunState::Idle;
    quint64 drained_ = 0;
    int largestDrain_ = 0;
};

}  // namespace xopd::widgets

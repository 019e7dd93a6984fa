#include "widgets/run/RunBridge.h"

#include <exception>

namespace xopd::widgets {

void registerRunMetaTypes() {
    qRegisterMetaType<xopd::StepMetrics>("xopd::StepMetrics");
    qRegisterMetaType<xopd::TokenDivergenceBatch>("xopd::TokenDivergenceBatch");
    qRegisterMetaType<xopd::RunState>("xopd::RunState");
    qRegisterMetaType<xopd::LogLevel>("xopd::LogLevel");
}

RunBridge::RunBridge(QObject* parent) : QObject(parent) {
    registerRunMetaTypes();
    connect(this, &RunBridge::eventsQueued, this, &RunBridge::drain, Qt::QueuedConnection);
}

RunBridge::~RunBridge() { detach(); }

void RunBridge::attach(RunControl* control) {
    detach();
    control_ = control;
    if (control_) {
        state_ = control_->state();
        control_->addObserver(this);
    }
}

void RunBridge::detach() {
    if (control_) control_->removeObserver(this);
    control_ = nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    buffer_.clear();
}

template <class F>
void RunBridge::command(const char* name, F&& f) {
    if (!control_) {
        emit commandFailed(QString("%1: no run is open").arg(name));
        return;
    }
    try {
        f(*control_);
    } catch (const std::exception& e) {
        emit commandFailed(QString("%1: %2").arg(name, QString::fromUtf8(e.what())));
    }
}

void RunBridge::start() { command("start", [](RunControl& c) { c.start(); }); }
void RunBridge::pause() { command("pause", [](RunControl& c) { c.pause(); }); }
void RunBridge::resume() { command("resume", [](RunControl& c) { c.resume(); }); }
void RunBridge::stop() { command("stop", [](RunControl& c) { c.stop(); }); }
void RunBridge::cancel() { command("cancel", [](RunControl& c) { c.cancel(); }); }

bool RunBridge::setKnob(const QString& name, double value) {
    bool ok = false;
    command("set knob", [&](RunControl& c) {
        c.setKnob(name.toStdString(), value);
        ok = true;
    });
    return ok;
}

void RunBridge::push(Event event) {
    bool wasEmpty;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wasEmpty = buffer_.empty();
        buffer_.push_back(std::move(event));
    }
    if (wasEmpty) emit eventsQueued();
}

void RunBridge::onStateChanged(RunState state, const std::string& reason) { push(StateEvent{state, reason}); }
void RunBridge::onStep(const StepMetrics& metrics) { push(metrics); }
void RunBridge::onTokens(const TokenDivergenceBatch& batch) { push(batch); }
void RunBridge::onLog(LogLevel level, const std::string& message) { push(LogEvent{level, message}); }
void RunBridge::onCheckpoint(int64_t step, const std::string& folder) { push(CheckpointEvent{step, folder}); }
void RunBridge::onPlan(int64_t max_steps) { push(PlanEvent{max_steps}); }

void RunBridge::drain() {
    std::vector<Event> events;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        events.swap(buffer_);
    }
    largestDrain_ = std::max(largestDrain_, int(events.size()));
    for (auto& e : events) {
        ++drained_;
        if (auto* s = std::get_if<StateEvent>(&e)) {
            state_ = s->state;
            emit stateChanged(s->state, QString::fromStdString(s->reason));
        } else if (auto* m = std::get_if<StepMetrics>(&e)) {
            emit stepReceived(*m);
        } else if (auto* t = std::get_if<TokenDivergenceBatch>(&e)) {
            emit tokensReceived(*t);
        } else if (auto* l = std::get_if<LogEvent>(&e)) {
            emit logReceived(l->level, QString::fromStdString(l->message));
        } else if (auto* c = std::get_if<CheckpointEvent>(&e)) {
            emit checkpointSaved(c->step, QString::fromStdString(c->folder));
        } else if (auto* p = std::get_if<PlanEvent>(&e)) {
            emit planChanged(p->maxSteps);
        }
    }
}

}  // namespace xopd::widgets

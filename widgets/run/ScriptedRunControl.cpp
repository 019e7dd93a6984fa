#include "widgets/run/ScriptedRunControl.h"

#include "core/common/Error.h"
#include "core/distill/Knobs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

namespace xopd::widgets {

ScriptedRunControl::ScriptedRunControl(ScriptedRunOptions options) : options_(std::move(options)) {}

ScriptedRunControl::~ScriptedRunControl() {
    cancelRequested_ = true;
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
}

template <class F>
void ScriptedRunControl::notify(F&& f) {
    std::vector<RunObserver*> obs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        obs = observers_;
    }
    for (auto* o : obs) f(*o);
}

void ScriptedRunControl::setState(RunState s, const std::string& reason) {
    state_ = s;
    notify([&](RunObserver& o) { o.onStateChanged(s, reason); });
}

void ScriptedRunControl::start() {
    const RunState s = state_.load();
    if (s == RunState::Running || s == RunState::Paused || s == RunState::Pausing) return;
    if (worker_.joinable()) worker_.join();
    pauseRequested_ = stopRequested_ = cancelRequested_ = false;
    state_ = RunState::Running;
    worker_ = std::thread([this] { run(); });
}

void ScriptedRunControl::pause() {
    if (state_ != RunState::Running) return;
    pauseRequested_ = true;
    state_ = RunState::Pausing;  // the worker reports Paused at the next step boundary
}

void ScriptedRunControl::resume() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pauseRequested_ = false;
    }
    cv_.notify_all();
}

void ScriptedRunControl::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopRequested_ = true;
    }
    cv_.notify_all();
}

void ScriptedRunControl::cancel() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        cancelRequested_ = true;
    }
    cv_.notify_all();
}

void ScriptedRunControl::wait() {
    if (worker_.joinable()) worker_.join();
}

void ScriptedRunControl::setKnob(const std::string& name, double value) {
    distill::knob(name).check(value, "knob '" + name + "'");  // the run's own table of ranges
    std::lock_guard<std::mutex> lock(mutex_);
    if (name == "lambda") lambda_ = value;
    else if (name == "lr") lr_ = value;
    else if (name == "temperature") temperature_ = value;
    // max_steps: the scripted run has no plan to change.
}

double ScriptedRunControl::knob(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (name == "lambda") return lambda_;
    if (name == "lr") return lr_;
    if (name == "temperature") return temperature_;
    return std::numeric_limits<double>::quiet_NaN();
}

void ScriptedRunControl::addObserver(RunObserver* observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    observers_.push_back(observer);
}

void ScriptedRunControl::removeObserver(RunObserver* observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

void ScriptedRunControl::run() {
    using clock = std::chrono::steady_clock;
    std::mt19937 rng(options_.seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    const auto t0 = clock::now();
    setState(RunState::Running, "started");
    notify([&](RunObserver& o) { o.onPlan(options_.maxSteps); });
    notify([&](RunObserver& o) { o.onLog(LogLevel::Info, "simulated run started (scripted data, no model)"); });
    static const char* words[] = {" The", " answer", " is", " B", ".", " Because", " the", " speaker", " said", " three",
                                  ",", " not", " four", "\n", " so", " we", " add", "\t", " two", " more", " items",
                                  " to", " the", " list"};
    for (int64_t step = 1; step <= options_.maxSteps; ++step) {
        if (cancelRequested_) {
            setState(RunState::Cancelled, "cancelled by the user");
            return;
        }
        if (stopRequested_) {
            setState(RunState::Stopping);
            notify([&](RunObserver& o) { o.onCheckpoint(step - 1, options_.runDir + "/checkpoints/step-" + std::to_string(step - 1)); });
            setState(RunState::Stopped, "stopped by the user");
            return;
        }
        if (pauseRequested_) {
            setState(RunState::Paused);
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [&] { return !pauseRequested_ || stopRequested_ || cancelRequested_; });
            lock.unlock();
            if (cancelRequested_ || stopRequested_) {
                --step;
                continue;
            }
            setState(RunState::Running, "resumed");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.stepInterval_ms));
        if (options_.failAtStep == step) {
            notify([&](RunObserver& o) { o.onLog(LogLevel::Error, "simulated failure"); });
            setState(RunState::Failed, "simulated failure at step " + std::to_string(step));
            return;
        }
        double lambda, lr, temp;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            lambda = lambda_, lr = lr_, temp = temperature_;
        }
        const double t = double(step);
        const double decayCm = 0.9 * std::exp(-t / 25.0) + 0.12, decayIm = 0.35 * std::exp(-t / 30.0) + 0.05;
        StepMetrics m;
        m.step = step;
        m.wall_time_s = std::chrono::duration<double>(clock::now() - t0).count();
        m.unix_time_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        auto& s = m.scalars;
        s["speech/adv_mean"] = -decayCm * (1 + 0.15 * noise(rng));
        s["text/adv_mean"] = -decayIm * (1 + 0.15 * noise(rng));
        s["speech/adv_p95"] = 2.5 * decayCm * (1 + 0.1 * noise(rng));
        s["text/adv_p95"] = 2.5 * decayIm * (1 + 0.1 * noise(rng));
        s["modality_gap_mean"] = 0.8 * std::exp(-t / 20.0) + 0.05 + 0.03 * noise(rng);
        s["speech/entropy"] = 1.2 + 0.1 * noise(rng);
        s["text/entropy"] = 1.0 + 0.1 * noise(rng);
        s["speech/len_mean"] = 24 + 2 * noise(rng);
        s["text/len_mean"] = 22 + 2 * noise(rng);
        s["loss"] = lambda * decayIm + (1 - lambda) * decayCm + 0.02 * noise(rng);
        s["grad_norm"] = step == options_.nanAtStep ? std::numeric_limits<double>::quiet_NaN()
                                                    : 0.6 + 0.2 * std::abs(noise(rng)) + (step % 17 == 0 ? 4.0 : 0.0);
        s["lr"] = lr;
        s["lambda"] = lambda;
        s["temperature"] = temp;
        s["teacher_lp_mean"] = -1.1 - 0.1 * noise(rng);
        s["tokens_per_s"] = 900 + 50 * noise(rng);
        s["time/step_s"] = options_.stepInterval_ms / 1000.0;
        notify([&](RunObserver& o) { o.onStep(m); });
        for (const char* stream : {"speech", "text"}) {
            const bool speech = std::string(stream) == "speech";
            for (int k = 0; k < options_.samplesPerStep; ++k) {
                TokenDivergenceBatch b;
                b.step = step;
                b.sample_index = k;
                b.stream = stream;
                b.prompt_id = "demo-" + std::to_string(k);
                b.prompt_text = "How many items are on the list if the speaker said three?";
                for (int i = 0; i < options_.tokensPerSample; ++i) {
                    TokenRecord r;
                    r.position = i;
                    r.token_id = 1000 + i;
                    r.text = words[i % (sizeof(words) / sizeof(words[0]))];
                    const double scale = (speech ? decayCm : decayIm) * (i < 6 ? 2.0 : 1.0);
                    r.student_logprob = float(-std::abs(noise(rng)) * 0.8 - 0.05);
                    r.advantage = float(scale * noise(rng) - 0.3 * scale);
                    r.teacher_logprob = r.student_logprob + r.advantage;
                    r.student_other_logprob = speech ? r.student_logprob + float(0.5 * decayCm * std::abs(noise(rng)))
                                                     : r.student_logprob - float(0.5 * decayCm * std::abs(noise(rng)));
                    r.entropy = float(0.2 + std::abs(noise(rng)));
                    r.masked = (i == options_.tokensPerSample - 1);
                    if (r.masked) r.advantage = 0.f;
                    for (int j = 0; j < 3; ++j) {
                        r.student_topk.push_back({j == 0 ? r.token_id : 2000 + j, r.student_logprob - float(j) * 1.5f});
                        r.teacher_topk.push_back({j == 1 ? r.token_id : 3000 + j, r.teacher_logprob - float(j == 0 ? -0.3 : j) * 1.2f});
                    }
                    b.tokens.push_back(std::move(r));
                }
                notify([&](RunObserver& o) { o.onTokens(b); });
            }
        }
        if (step % 10 == 0) {
            notify([&](RunObserver& o) { o.onLog(LogLevel::Info, "step " + std::to_string(step) + ": checkpoint"); });
            notify([&](RunObserver& o) { o.onCheckpoint(step, options_.runDir + "/checkpoints/step-" + std::to_string(step)); });
        }
        if (step % 17 == 0)
            notify([&](RunObserver& o) { o.onLog(LogLevel::Warning, "grad_norm spike at step " + std::to_string(step)); });
    }
    setState(RunState::Finished, "reached max steps");
}

}  // namespace xopd::widgets

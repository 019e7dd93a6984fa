#include "core/run/RunRetirement.h"

namespace xopd::run {

RunRetirement::~RunRetirement() {
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
}

void RunRetirement::retire(std::unique_ptr<RunControl> run) {
    if (!run) return;
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([r = std::move(run)]() mutable {
        const RunState s = r->state();
        if (s == RunState::Running || s == RunState::Paused || s == RunState::Pausing) r->stop();
        r->wait();
        r.reset();
    });
}

}  // namespace xopd::run

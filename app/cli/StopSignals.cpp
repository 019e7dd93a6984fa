#include "app/cli/StopSignals.h"

#include <signal.h>

#include <atomic>
#include <csignal>
#include <iterator>

namespace xopd::cli {
namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<int> g_interrupts{0};
std::atomic<int> g_stop_signal{0};  ///< the first stop signal received (0 = none)

void onStopSignal(int signo) {
    if (g_interrupts.fetch_add(1) >= 1) {  // the second: die of it, as without a handler
        std::signal(signo, SIG_DFL);
        std::raise(signo);
        return;
    }
    g_stop_signal = signo;
}

}  // namespace

struct StopSignalHandlers::Saved {
    struct sigaction previous[std::size(kStopSignals)]{};
};

StopSignalHandlers::StopSignalHandlers() : saved_(new Saved) {
    g_interrupts = 0;
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &sa, &saved_->previous[i]);
}

StopSignalHandlers::~StopSignalHandlers() {
    for (size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &saved_->previous[i], nullptr);
    delete saved_;
}

int stopSignal() { return g_stop_signal.load(); }

}  // namespace xopd::cli

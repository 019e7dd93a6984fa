#pragma once
// The stop signals of long CLI commands: SIGINT (Ctrl-C), SIGTERM and SIGHUP (what Slurm, systemd
// and the workbench's Cancel send). The first one is recorded and the command stops at its next
// step boundary (a run with a checkpoint, a demo-kit build leaving nothing); a second one kills at
// once, as without a handler. Commands exit with 128 + the signal's number (130, 143, 129).
//
//   StopSignalHandlers handlers;          // installed for this scope, the record cleared
//   while (work && stopSignal() == 0) step();
//
// Threading: install and remove from the main thread; stopSignal() may be read from any thread.

namespace xopd::cli {

/// Installs the stop-signal handler for its lifetime (clearing the record first) and restores the
/// previous handlers when destroyed.
class StopSignalHandlers {
public:
    StopSignalHandlers();
    ~StopSignalHandlers();
    StopSignalHandlers(const StopSignalHandlers&) = delete;
    StopSignalHandlers& operator=(const StopSignalHandlers&) = delete;

private:
    struct Saved;
    Saved* saved_;
};

/// The first stop signal received while handlers were installed (0 = none).
int stopSignal();

}  // namespace xopd::cli

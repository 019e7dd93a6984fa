// CLI commands of the distill group (see Commands.h):
//   xopd distill (--config RUN.json | --toy | --demo) --run-dir DIR [--max-steps N]
//   xopd distill ... [--teacher-url URL [--teacher-api-key-env VAR] [--teacher-api vllm|openai-echo|sglang]]
//   xopd distill --resume --run-dir DIR [--max-steps N]
//   xopd runs list [DIR]
//   xopd runs export --format tensorboard|csv RUN [--out DIR]
// As one rank of a data-parallel job (torchrun --no-python, srun, mpirun; README "Scaling out")
// the same command line runs on every rank: rank 0 prints and writes the run folder, the others
// print only errors. Under torchrun --max-restarts a restarted job (TORCHELASTIC_RESTART_COUNT > 0)
// whose run folder already holds run.json resumes from its latest checkpoint by itself.
// A progress bar (step, loss, divergence, ETA) on a terminal, plain lines otherwise. A stop signal
// (Ctrl-C's SIGINT, or SIGTERM and SIGHUP, which Slurm and systemd send) stops the run at the next
// step boundary with a checkpoint (resumable), and the exit status is 128 + the signal's number
// (130, 143, 129): the run did not finish. A second stop signal kills at once.
#include "app/cli/Commands.h"
#include "app/cli/StopSignals.h"
#include "core/common/Error.h"
#include "core/dist/Group.h"
#include "core/dist/LaunchEnv.h"
#include "core/distill/DistillConfig.h"
#include "core/run/RunController.h"
#include "core/run/RunExport.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"
#include "core/session/Session.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <optional>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace xopd::cli {
namespace fs = std::filesystem;
namespace {

std::string fmt(double v, int precision = 4) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream os;
    os << std::setprecision(precision) << v;
    return os.str();
}

std::string duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    std::ostringstream os;
    const long t = long(std::llround(s));
    if (t >= 3600) os << t / 3600 << "h" << std::setw(2) << std::setfill('0') << (t % 3600) / 60 << "m";
    else if (t >= 60) os << t / 60 << "m" << std::setw(2) << std::setfill('0') << t % 60 << "s";
    else os << t << "s";
    return os.str();
}

/// Prints progress: a redrawn bar on a terminal, one line per step otherwise.
class ProgressPrinter : public RunObserver {
public:
    explicit ProgressPrinter(bool tty) : tty_(tty) {}

    void onPlan(int64_t max_steps) override { max_steps_ = max_steps; }
    void onStep(const StepMetrics& m) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (first_step_ < 0) {
            first_step_ = m.step - 1;
            first_wall_ = m.wall_time_s - value(m, "time/step_s");
        }
        const double done = double(m.step - first_step_);
        const double rate = (m.wall_time_s - first_wall_) / std::max(1.0, done);
        const double eta = rate * double(max_steps_ - m.step);
        double div = value(m, "speech/divergence");
        if (!std::isfinite(div)) div = value(m, "text/divergence");
        std::ostringstream line;
        line << "step " << m.step << "/" << max_steps_ << "  loss " << fmt(value(m, "loss")) << "  divergence "
             << fmt(div) << "  gap " << fmt(value(m, "modality_gap_mean")) << "  " << fmt(value(m, "time/step_s"), 3)
             << " s/step  ETA " << duration(eta);
        if (tty_) {
            const int width = 24;
            const int filled = max_steps_ > 0 ? int(width * double(m.step) / double(max_steps_)) : 0;
            std::cout << "\r[" << std::string(size_t(std::min(filled, width)), '#')
                      << std::string(size_t(width - std::min(filled, width)), '.') << "] " << line.str() << "   "
                      << std::flush;
            need_newline_ = true;
        } else {
            std::cout << line.str() << "\n" << std::flush;
        }
    }
    void onStateChanged(RunState s, const std::string& reason) override {
        std::lock_guard<std::mutex> lock(mutex_);
        newline();
        if (s == RunState::Running && reason.empty()) return;
        if (s == RunState::Failed) return;  // drive() reports a failure, once
        std::cout << "run " << runStateName(s) << (reason.empty() ? "" : ": " + reason) << "\n" << std::flush;
    }
    void onCheckpoint(int64_t step, const std::string& folder) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (tty_) return;  // the bar would be interrupted on every checkpoint
        std::cout << "checkpoint step " << step << ": " << folder << "\n" << std::flush;
    }
    void onLog(LogLevel level, const std::string& message) override {
        if (level < LogLevel::Warning) return;
        std::lock_guard<std::mutex> lock(mutex_);
        newline();
        std::cerr << "xopd: " << (level == LogLevel::Warning ? "warning: " : "error: ") << message << "\n";
        if (level > LogLevel::Warning) printed_errors_.push_back(message);
    }
    /// Whether `message` was already printed as an error.
    bool printedError(const std::string& message) {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::find(printed_errors_.begin(), printed_errors_.end(), message) != printed_errors_.end();
    }

private:
    static double value(const StepMetrics& m, const std::string& k) {
        auto it = m.scalars.find(k);
        return it == m.scalars.end() ? std::nan("") : it->second;
    }
    void newline() {
        if (need_newline_) std::cout << "\n";
        need_newline_ = false;
    }
    bool tty_;
    std::mutex mutex_;
    int64_t max_steps_ = 0;
    int64_t first_step_ = -1;
    double first_wall_ = 0.0;
    bool need_newline_ = false;
    std::vector<std::string> printed_errors_;
};

/// Drives a controller to completion from the CLI's main thread. Returns the exit code.
int drive(run::RunController& c, bool follower = false) {
    ProgressPrinter printer(::isatty(STDOUT_FILENO) != 0);
    if (!follower) c.addObserver(&printer);  // one progress report per job: rank 0's
    std::optional<StopSignalHandlers> handlers(std::in_place);
    c.start();
    bool stopRequested = false;
    while (true) {
        const RunState s = c.state();
        if (s == RunState::Finished || s == RunState::Stopped || s == RunState::Failed || s == RunState::Cancelled) break;
        if (!stopRequested && stopSignal() != 0) {
            std::cout << "\nxopd: " << ::strsignal(stopSignal())
                      << ": stopping at the next step boundary (checkpoint kept; the same signal again kills)\n"
                      << std::flush;
            c.stop();
            stopRequested = true;
        }
        if (!stopRequested && !follower && s == RunState::Paused) {
            // Headless: nobody can resume a pause (NaN guard); stop with a checkpoint instead
            // (rank 0's stop reaches the other ranks).
            std::cout << "xopd: run paused (" << c.lastReason() << "); stopping. Continue with: xopd distill --resume --run-dir "
                      << c.runDir() << "\n";
            c.stop();
            stopRequested = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    c.wait();
    handlers.reset();
    c.removeObserver(&printer);
    const RunState s = c.state();
    if (s == RunState::Failed) {
        // The reason was printed as it was logged (rank 0); say it only where it was not.
        if (!follower && printer.printedError(c.lastReason())) XOPD_FAIL("run '" << c.runDir() << "' failed (above)");
        XOPD_FAIL("run '" << c.runDir() << "' failed: " << c.lastReason());
    }
    const int signo = stopSignal();
    // Other ranks follow rank 0's stop (RankControl.h): exit as it does, silently.
    if (follower) return s == RunState::Finished ? 0 : signo != 0 ? 128 + signo : 1;
    std::cout << "run folder: " << c.runDir() << " (" << runStateName(s) << ", " << c.completedSteps() << " steps)\n";
    if (s == RunState::Finished) return 0;
    // Stopped by a signal: not finished, and the status says which signal (as a shell reports it).
    if (signo != 0) std::cout << "xopd: the run did not finish; continue with: xopd distill --resume --run-dir " << c.runDir() << "\n";
    return signo != 0 ? 128 + signo : 1;
}

/// A small configuration that runs in seconds on a CPU: toy teacher and student.
distill::Method methodOf(const std::string& name) {
    for (auto m : {distill::Method::XOpd, distill::Method::Sft, distill::Method::OfflineKd, distill::Method::Gkd})
        if (name == distill::methodName(m)) return m;
    XOPD_FAIL("distill: unknown method '" << name << "' (x-opd, sft, offline-kd, gkd)");
}

void printRuns(const std::string& root) {
    const auto runs = run::RunReader::listRuns(root);
    if (runs.empty()) {
        std::cout << "no runs under '" << root << "'\n";
        return;
    }
    std::cout << std::left << std::setw(28) << "RUN" << std::setw(12) << "METHOD" << std::setw(12) << "STEPS"
              << std::setw(13) << "STATE" << std::setw(12) << "LOSS" << std::setw(12) << "DIVERGENCE"
              << "CHECKPOINT\n";
    std::vector<std::string> problems;
    for (const auto& r : runs) {
        if (!r.problem.empty()) problems.push_back(r.id + ": " + r.problem);
        std::ostringstream steps;
        steps << r.steps << "/" << r.max_steps;
        std::cout << std::left << std::setw(28) << r.id << std::setw(12) << (r.method.empty() ? "?" : r.method)
                  << std::setw(12) << steps.str() << std::setw(13) << r.state << std::setw(12) << fmt(r.last_loss)
                  << std::setw(12) << fmt(r.last_divergence) << (r.latest_checkpoint.empty() ? "-" : r.latest_checkpoint)
                  << "\n";
    }
    // Folders that could not be read are rows above ("unreadable"); here is why.
    for (const auto& p : problems) std::cout << "problem: " << p << "\n";
}

}  // namespace

void addDistillCommands(CLI::App& app, Action& run) {
    struct Args {
        std::string config, run_dir;
        bool demo = false, toy = false, resume = false;
        std::string method = "x-opd";
        int64_t max_steps = 0;
        std::string runs_root = "runs";
        int64_t dist_timeout_s = 600;
        std::string export_format, export_run, export_out;
        std::string teacher_url, teacher_api_key_env, teacher_api = "vllm";
    };
    auto a = std::make_shared<Args>();

    auto* cmd = app.add_subcommand("distill", "Train a speech LLM by cross-modal on-policy distillation (or a baseline)");
    auto* cfg = cmd->add_option("--config", a->config, "run configuration (JSON; see docs/guide/distill.md)");
    auto* demo = cmd->add_flag("--demo", a->demo, "use the demo kit (tiny teacher + student + prompt set)");
    auto* toy = cmd->add_flag("--toy", a->toy, "built-in toy models: a seconds-long smoke run");
    auto* res = cmd->add_flag("--resume", a->resume, "continue the run in --run-dir from its latest checkpoint");
    cmd->add_option("--run-dir", a->run_dir, "run folder (created for a new run)")->required();
    cmd->add_option("--max-steps", a->max_steps, "optimizer steps (overrides the config)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--dist-timeout", a->dist_timeout_s,
                    "data parallel: seconds a rank waits for the others (rendezvous, each collective) before failing")
        ->check(CLI::Range(1, 86400));
    auto* meth = cmd->add_option("--method", a->method, "objective with --demo/--toy: x-opd, sft, offline-kd, gkd")
                     ->check(CLI::IsMember({"x-opd", "sft", "offline-kd", "gkd"}));
    auto* turl = cmd->add_option("--teacher-url", a->teacher_url,
                                 "the teacher served over HTTP (xopd serve, vLLM, SGLang): http://HOST:PORT; its tokenizer is read "
                                 "from the config's teacher folder");
    auto* tkey = cmd->add_option("--teacher-api-key-env", a->teacher_api_key_env,
                                 "name of the environment variable holding the teacher server's key (the key is never written)");
    auto* tapi = cmd->add_option("--teacher-api", a->teacher_api, "request shape: vllm (prompt_logprobs), openai-echo, sglang")
                     ->check(CLI::IsMember({"vllm", "openai-echo", "sglang"}));
    tkey->needs(turl);
    tapi->needs(turl);
    turl->excludes(res);
    meth->excludes(cfg)->excludes(res);
    cfg->excludes(demo)->excludes(toy)->excludes(res);
    demo->excludes(toy)->excludes(res);
    toy->excludes(res);
    cmd->callback([&run, a] {
        run = [a]() -> int {
            run::RunOptions o;
            o.run_dir = a->run_dir;
            o.max_steps = a->max_steps;
            const auto env = dist::readLaunchEnv();
            bool resume = a->resume;
            if (env.distributed()) {
                // A rank whose peer died must get an error from the socket, not die of SIGPIPE.
                std::signal(SIGPIPE, SIG_IGN);
                o.group = dist::Group::join(env, std::chrono::seconds(a->dist_timeout_s));
                // torchrun --max-restarts: the restarted job continues the run it had begun.
                if (env.restart_count > 0 && fs::exists(run::RunFolder(a->run_dir).runJsonPath())) resume = true;
            }
            const bool follower = env.distributed() && env.rank != 0;
            if (resume) {
                auto c = run::RunController::resume(o);
                return drive(*c, follower);
            }
            distill::DistillConfig config;
            if (!a->config.empty()) {
                config = distill::readDistillConfig(a->config);
            } else if (a->toy) {
                config = distill::toyDistillConfig(methodOf(a->method));
            } else if (a->demo) {
                config = distill::demoDistillConfig(methodOf(a->method));
            } else {
                XOPD_FAIL("distill: give --config FILE, --toy, --demo or --resume");
            }
            if (!a->teacher_url.empty()) {
                config.served_teacher.url = a->teacher_url;
                config.served_teacher.api = a->teacher_api;
                config.served_teacher.api_key_env = a->teacher_api_key_env;
                config.validate("--teacher-url");
            }
            // Models, kit and manifest checked before the run folder exists: a run that cannot load
            // leaves nothing behind.
            session::Session::requireModels(config);
            run::RunController c(config, o);
            return drive(c, follower);
        };
    });

    auto* runs = app.add_subcommand("runs", "Inspect run folders");
    runs->require_subcommand(1);
    auto* list = runs->add_subcommand("list", "Table of the runs in a folder: id, method, steps, state, last metrics");
    list->add_option("dir", a->runs_root, "folder holding run folders (default: runs)");
    list->callback([&run, a] {
        run = [a]() -> int {
            printRuns(a->runs_root);
            return 0;
        };
    });
    auto* exp = runs->add_subcommand("export", "Write a run's step scalars as TensorBoard event files or CSV "
                                                "(TensorBoard: RUN/tb/ unless --out; CSV: RUN/metrics.csv unless --out)");
    exp->add_option("--format", a->export_format, "tensorboard or csv")->required()->check(CLI::IsMember({"tensorboard", "csv"}));
    exp->add_option("run", a->export_run, "run folder")->required();
    exp->add_option("--out", a->export_out, "folder to write into (created when missing)");
    exp->callback([&run, a] {
        run = [a]() -> int {
            std::string path;
            if (a->export_format == "tensorboard") {
                path = run::exportTensorBoard(a->export_run, a->export_out);
            } else {
                std::string file;
                if (!a->export_out.empty()) {
                    std::error_code ec;
                    fs::create_directories(a->export_out, ec);
                    XOPD_CHECK(!ec, "'" << a->export_out << "': cannot create (" << ec.message() << ")");
                    file = (fs::path(a->export_out) / "metrics.csv").string();
                }
                path = run::exportCsv(a->export_run, file);
            }
            std::cout << "wrote " << path << "\n";
            return 0;
        };
    });
}

}  // namespace xopd::cli

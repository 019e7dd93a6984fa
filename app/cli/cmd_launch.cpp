// CLI command (see Commands.h):
//   xopd launch-script torchrun|sbatch (--config RUN.json | --demo | --toy) --run-dir DIR --out FILE
//        [--nproc-per-node N] [--nodes N] [--gpus-per-node N] [--master-port P] [--max-restarts N]
//        [--time T] [--job-name NAME] [--dist-timeout S] [--method M] [--max-steps N]
//        [--serve-teacher DIR [--teacher-host H] [--teacher-port P] [--teacher-api-key-env VAR]]
// Writes the bash script that launches the run as a data-parallel job (core/run/LaunchScript.h,
// README "Scaling out"); the workbench's set-up screen exports the same script.
#include "app/cli/Commands.h"
#include "core/common/Error.h"
#include "core/distill/DistillConfig.h"
#include "core/run/LaunchScript.h"

#include <filesystem>
#include <iostream>
#include <memory>

namespace xopd::cli {
namespace fs = std::filesystem;
namespace {

distill::Method methodNamed(const std::string& name) {
    for (auto m : {distill::Method::XOpd, distill::Method::Sft, distill::Method::OfflineKd, distill::Method::Gkd})
        if (name == distill::methodName(m)) return m;
    XOPD_FAIL("launch-script: unknown method '" << name << "'");
}

}  // namespace

void addLaunchCommand(CLI::App& app, Action& run) {
    struct Args {
        std::string kind, config, run_dir, out, method = "x-opd";
        bool demo = false, toy = false;
        int64_t max_steps = 0;
        run::LaunchScriptOptions o;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("launch-script",
                                   "Write a bash script that runs `xopd distill` as a data-parallel job: torchrun on one machine "
                                   "or sbatch (Slurm) across machines, optionally starting a teacher server first");
    cmd->add_option("launcher", a->kind, "torchrun or sbatch")->required()->check(CLI::IsMember({"torchrun", "sbatch"}));
    auto* cfg = cmd->add_option("--config", a->config, "run configuration (JSON) the script starts the run with");
    auto* demo = cmd->add_flag("--demo", a->demo, "the demo kit's run (xopd distill --demo)");
    auto* toy = cmd->add_flag("--toy", a->toy, "the toy models' run (xopd distill --toy)");
    cmd->add_option("--run-dir", a->run_dir, "the run folder, on storage every node sees (made absolute)")->required();
    cmd->add_option("--out", a->out, "the script file to write (mode 0755)")->required();
    auto* meth = cmd->add_option("--method", a->method, "objective with --demo/--toy: x-opd, sft, offline-kd, gkd")
                     ->check(CLI::IsMember({"x-opd", "sft", "offline-kd", "gkd"}));
    cmd->add_option("--max-steps", a->max_steps, "optimizer steps (overrides the config)")->check(CLI::PositiveNumber);
    cmd->add_option("--nproc-per-node", a->o.procs_per_node, "ranks per machine (default 2)")->check(CLI::Range(1, 1024));
    cmd->add_option("--nodes", a->o.nodes, "machines (sbatch; default 1)")->check(CLI::Range(1, 100000));
    cmd->add_option("--gpus-per-node", a->o.gpus_per_node, "GPUs per machine (sbatch --gpus-per-node; default none)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("--master-port", a->o.master_port, "rendezvous port on the first machine (default 29500)")->check(CLI::Range(1, 65535));
    cmd->add_option("--max-restarts", a->o.max_restarts, "torchrun: restarts of the job after a failure (default 0)")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--time", a->o.time_limit, "sbatch --time, e.g. 24:00:00");
    cmd->add_option("--job-name", a->o.job_name, "sbatch --job-name (default xopd-RUN)");
    cmd->add_option("--dist-timeout", a->o.dist_timeout_s, "seconds a rank waits for the others (default 600)")->check(CLI::Range(1, 86400));
    auto* serve = cmd->add_option("--serve-teacher", a->o.teacher.model_dir,
                                  "start `xopd serve --model DIR` first and give the ranks its URL");
    cmd->add_option("--teacher-host", a->o.teacher.host, "address the teacher server binds (torchrun 127.0.0.1, sbatch 0.0.0.0)")
        ->needs(serve);
    cmd->add_option("--teacher-port", a->o.teacher.port, "the teacher server's port (default 8000)")->check(CLI::Range(1, 65535))->needs(serve);
    cmd->add_option("--teacher-api-key-env", a->o.teacher.api_key_env,
                    "environment variable holding the teacher server's key (required beyond 127.0.0.1)")
        ->needs(serve);
    meth->excludes(cfg);
    cfg->excludes(demo)->excludes(toy);
    demo->excludes(toy);
    cmd->callback([&run, a] {
        run = [a]() -> int {
            distill::DistillConfig config;
            if (!a->config.empty()) config = distill::readDistillConfig(a->config);
            else if (a->toy) config = distill::toyDistillConfig(methodNamed(a->method));
            else if (a->demo) config = distill::demoDistillConfig(methodNamed(a->method));
            else XOPD_FAIL("launch-script: give --config FILE, --demo or --toy");
            if (a->max_steps > 0) config.train.max_steps = a->max_steps;
            a->o.kind = run::parseLaunchKind(a->kind);
            a->o.run_dir = fs::absolute(a->run_dir).lexically_normal().string();
            run::writeLaunchScript(a->out, run::launchScript(config, a->o));
            std::cout << "wrote " << a->out << " (" << a->kind << ", " << a->o.nodes * a->o.procs_per_node
                      << " ranks, run folder " << a->o.run_dir << ")\n";
            return 0;
        };
    });
}

}  // namespace xopd::cli

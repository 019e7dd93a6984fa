#pragma once
// A run exported as a launch script (README "Scaling out"): the bash script that starts `xopd
// distill` as the ranks of a data-parallel job, for one machine under torchrun or for several under
// Slurm (sbatch + srun), optionally after starting a teacher server (`xopd serve`) for the ranks.
// The workbench's set-up screen and `xopd launch-script` both write it from here.
//
//   LaunchScriptOptions o;
//   o.kind = LaunchKind::Sbatch;  o.run_dir = "/shared/runs/r1";  o.nodes = 2;  o.procs_per_node = 4;
//   writeLaunchScript("/shared/runs/r1.sbatch", launchScript(config, o));   // atomic, mode 0755
//
// What the script does, in order:
//  1. On its first start it writes `config` (toJson, complete) to RUN_DIR/launch-config.json and
//     runs `xopd distill --config RUN_DIR/launch-config.json --run-dir RUN_DIR --dist-timeout S
//     [--teacher-url URL --teacher-api-key-env VAR]` on every rank; once RUN_DIR holds run.json
//     (started again after a stop, a failure or a time limit) it runs `xopd distill --resume
//     --run-dir RUN_DIR --dist-timeout S` instead. With a teacher server the config written has no
//     served teacher (its URL and key variable are on the command line).
//  2. torchrun: `torchrun --nproc_per_node N --master_port P --max_restarts R -r 1 -t 1 --log_dir
//     RUN_DIR/launcher-logs --no_python "$XOPD" ARGS` (underscored flags: PyTorch 1.10 to 2.x all
//     accept them; Debian 12's torch 1.13 on Python 3.11 needs -r/-t/--log_dir).
//     sbatch: #SBATCH --nodes/--ntasks-per-node/--gpus-per-node/--time, MASTER_ADDR = the first
//     host of `scontrol show hostnames "$SLURM_JOB_NODELIST"`, MASTER_PORT, then `srun "$XOPD"
//     ARGS` (each task is a rank through SLURM_PROCID / SLURM_LOCALID / SLURM_NTASKS, LaunchEnv.h).
//  3. With a teacher server: `"$XOPD" serve --model DIR --host H --port P [--api-key-env VAR]` is
//     started first in the background, waited for until its port answers (the script fails if it
//     exits first), and killed when the script exits; the ranks get --teacher-url (127.0.0.1 on one
//     machine, MASTER_ADDR under Slurm) and --teacher-api-key-env VAR.
// At run time $XOPD overrides the program (default `xopd` on PATH) and $TORCHRUN the launcher.
// Every path and value is quoted for the shell (shellQuote), so folders with spaces or quotes work.
//
// Torch-free (widgets/ may include it). Pure functions, any thread.

#include "core/distill/DistillConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::run {

/// Which launcher the script uses. Zero is invalid.
enum class LaunchKind {
    Invalid = 0,
    Torchrun,  ///< "torchrun": one machine, `torchrun --no_python`
    Sbatch,    ///< "sbatch": a Slurm batch script, `srun` starts the ranks on every node
};

/// A teacher server started by the script before the ranks (`xopd serve`).
struct TeacherServerLaunch {
    /// The teacher's model folder as the server's machine sees it ("" = no teacher server).
    std::string model_dir;
    /// Address the server binds: 127.0.0.1 (this machine only, no key needed) or 0.0.0.0 (every
    /// node; a key is then required). "" = 127.0.0.1 for torchrun, 0.0.0.0 for sbatch.
    std::string host;
    /// Its port.
    int port = 8000;
    /// Environment variable holding the Bearer key, read by server and ranks ("" = no key: only
    /// with a loopback host). The key itself is never written into the script.
    std::string api_key_env;
};

/// How the script launches the run.
struct LaunchScriptOptions {
    /// Launcher.
    LaunchKind kind = LaunchKind::Torchrun;
    /// The run folder, an absolute path on storage every node sees.
    std::string run_dir;
    /// Machines (sbatch --nodes); torchrun runs on one.
    int nodes = 1;
    /// Ranks per machine (torchrun --nproc_per_node, sbatch --ntasks-per-node).
    int procs_per_node = 2;
    /// GPUs per machine (sbatch --gpus-per-node; 0 = not asked for).
    int gpus_per_node = 0;
    /// Port of the rendezvous store on the first machine (MASTER_PORT).
    int master_port = 29500;
    /// torchrun --max_restarts: restarts of the whole job after a rank fails (each resumes).
    int max_restarts = 0;
    /// xopd distill --dist-timeout: seconds a rank waits for the others.
    int64_t dist_timeout_s = 600;
    /// sbatch --time ("" = the partition's default), e.g. "24:00:00".
    std::string time_limit;
    /// sbatch --job-name ("" = "xopd-" + the run folder's name); characters outside
    /// [A-Za-z0-9._-] become '-'.
    std::string job_name;
    /// Optional teacher server.
    TeacherServerLaunch teacher;
};

/// "torchrun", "sbatch".
const char* launchKindName(LaunchKind kind);
/// Parses launchKindName(); throws xopd::Error naming the value otherwise.
LaunchKind parseLaunchKind(const std::string& name);

/// `s` quoted for bash: unchanged when made only of [A-Za-z0-9_@%+=:,./-] (and not empty), else in
/// single quotes with each ' written as '\''.
std::string shellQuote(const std::string& s);

/// The file the script writes the config to: RUN_DIR/launch-config.json.
std::string launchConfigPath(const std::string& run_dir);

/// The script's text. Throws xopd::Error saying what is wrong: an invalid config (validate()), a
/// relative or empty run folder, counts out of range, fewer sampling groups per step than ranks,
/// torchrun with more than one node, a teacher server without a model folder, beyond loopback
/// without a key, or on the rendezvous port, a key variable that is not a shell name.
std::string launchScript(const distill::DistillConfig& config, const LaunchScriptOptions& options);

/// Writes `text` to `path` atomically (AtomicFile) with mode 0755. Throws xopd::Error naming the file.
void writeLaunchScript(const std::string& path, const std::string& text);

}  // namespace xopd::run

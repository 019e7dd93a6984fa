#include "core/run/LaunchScript.h"

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"
#include "core/common/Version.h"

#include <cctype>
#include <filesystem>
#include <sstream>

namespace xopd::run {
namespace fs = std::filesystem;

namespace {

/// The heredoc's delimiter: a line of the JSON (indented, quoted) can never equal it.
constexpr const char* kConfigDelimiter = "XOPD_RUN_CONFIG";

bool isShellName(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

bool isLoopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

std::string jobNameOf(const LaunchScriptOptions& o) {
    std::string name = o.job_name.empty() ? "xopd-" + fs::path(o.run_dir).lexically_normal().filename().string() : o.job_name;
    for (char& c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '-';
    return name;
}

/// The host the teacher server binds.
std::string teacherBindHost(const LaunchScriptOptions& o) {
    if (!o.teacher.host.empty()) return o.teacher.host;
    return o.kind == LaunchKind::Sbatch ? "0.0.0.0" : "127.0.0.1";
}

void checkOptions(const distill::DistillConfig& config, const LaunchScriptOptions& o) {
    XOPD_CHECK(o.kind == LaunchKind::Torchrun || o.kind == LaunchKind::Sbatch, "launch script: no launcher chosen (torchrun, sbatch)");
    XOPD_CHECK(!o.run_dir.empty(), "launch script: no run folder given (a folder on storage every node sees)");
    XOPD_CHECK(fs::path(o.run_dir).is_absolute(),
               "launch script: run folder '" << o.run_dir << "' is not an absolute path (the ranks may start in other folders)");
    XOPD_CHECK(o.run_dir.find('\n') == std::string::npos && o.run_dir.find('\0') == std::string::npos,
               "launch script: the run folder's name holds a line break");
    XOPD_CHECK(o.nodes >= 1 && o.nodes <= 100000, "launch script: nodes " << o.nodes << " (1 to 100000)");
    XOPD_CHECK(o.kind == LaunchKind::Sbatch || o.nodes == 1,
               "launch script: torchrun here starts the ranks of one machine, not " << o.nodes << " (use sbatch for several)");
    XOPD_CHECK(o.procs_per_node >= 1 && o.procs_per_node <= 1024, "launch script: ranks per node " << o.procs_per_node << " (1 to 1024)");
    XOPD_CHECK(o.gpus_per_node >= 0 && o.gpus_per_node <= 1024, "launch script: GPUs per node " << o.gpus_per_node << " (0 to 1024)");
    XOPD_CHECK(o.master_port >= 1 && o.master_port <= 65535, "launch script: rendezvous port " << o.master_port << " (1 to 65535)");
    XOPD_CHECK(o.max_restarts >= 0 && o.max_restarts <= 1000, "launch script: max restarts " << o.max_restarts << " (0 to 1000)");
    XOPD_CHECK(o.dist_timeout_s >= 1 && o.dist_timeout_s <= 86400, "launch script: rank timeout " << o.dist_timeout_s << " s (1 to 86400)");
    for (char c : o.time_limit)
        XOPD_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-',
                   "launch script: time limit '" << o.time_limit << "' (Slurm's form, e.g. 24:00:00 or 2-00:00:00)");
    config.validate("the run's config");
    // Trainer::setDataParallel's rule, checked here so that a script never starts a job that fails.
    const auto& t = config.train;
    const int64_t prompts = std::max<int64_t>(
        1, t.batch_unit == distill::BatchUnit::Sequences ? t.batch_size / config.rollout.rollouts_per_prompt : t.batch_size);
    const int64_t g = std::max<int64_t>(1, t.dp_sample_group), groups = (prompts + g - 1) / g;
    const int64_t world = int64_t(o.nodes) * o.procs_per_node;
    XOPD_CHECK(groups >= world, "launch script: " << prompts << " prompts per step in sampling groups of " << g
                                                  << " (train.dp_sample_group) are " << groups << " groups, too few for "
                                                  << world << " ranks (each needs at least one)");
    const auto& s = o.teacher;
    if (s.model_dir.empty()) return;
    const std::string host = teacherBindHost(o);
    XOPD_CHECK(s.port >= 1 && s.port <= 65535, "launch script: teacher server port " << s.port << " (1 to 65535)");
    XOPD_CHECK(s.port != o.master_port, "launch script: the teacher server's port " << s.port << " is the rendezvous port");
    XOPD_CHECK(s.api_key_env.empty() || isShellName(s.api_key_env),
               "launch script: teacher key variable '" << s.api_key_env << "' is not an environment variable name");
    XOPD_CHECK(!s.api_key_env.empty() || isLoopback(host),
               "launch script: a teacher server on '" << host << "' needs a key (name its environment variable); "
                                                    "only 127.0.0.1 serves without one");
    XOPD_CHECK(o.kind == LaunchKind::Sbatch || isLoopback(host) || host == "0.0.0.0",
               "launch script: the teacher server of a one-machine job binds 127.0.0.1 or 0.0.0.0, not '" << host << "'");
    for (char c : host)
        XOPD_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':',
                   "launch script: teacher server host '" << host << "'");
    distill::DistillConfig served = config;
    served.served_teacher.url = "http://127.0.0.1:" + std::to_string(s.port);
    served.served_teacher.api = "vllm";
    served.served_teacher.api_key_env = s.api_key_env;
    served.validate("the run's config with a served teacher");
}

/// Lines that write the config (first start) or choose --resume (later starts), setting ARGS.
void writeArgs(std::ostream& out, const distill::DistillConfig& config, const LaunchScriptOptions& o) {
    distill::DistillConfig c = config;
    const bool server = !o.teacher.model_dir.empty();
    if (server) c.served_teacher = distill::ServedTeacherConfig{};  // on the command line instead
    const std::string timeout = std::to_string(o.dist_timeout_s);
    out << "if [ -f \"$RUN_DIR/run.json\" ]; then\n"
        << "    # The run exists (stopped, failed or out of time): continue it from its latest checkpoint.\n"
        << "    ARGS=(distill --resume --run-dir \"$RUN_DIR\" --dist-timeout " << timeout << ")\n"
        << "else\n"
        << "    # The run's configuration, verbatim (the quoted delimiter expands nothing).\n"
        << "    cat > \"$CONFIG.tmp\" <<'" << kConfigDelimiter << "'\n"
        << distill::toJson(c).dump(2) << "\n"
        << kConfigDelimiter << "\n"
        << "    mv -f -- \"$CONFIG.tmp\" \"$CONFIG\"\n"
        << "    ARGS=(distill --config \"$CONFIG\" --run-dir \"$RUN_DIR\" --dist-timeout " << timeout;
    if (server) {
        out << " --teacher-url \"$TEACHER_URL\"";
        if (!o.teacher.api_key_env.empty()) out << " --teacher-api-key-env " << o.teacher.api_key_env;
    }
    out << ")\n"
        << "fi\n";
}

/// Lines that start the teacher server, wait for its port and stop it when the script exits.
void writeTeacherServer(std::ostream& out, const LaunchScriptOptions& o) {
    const auto& s = o.teacher;
    const std::string host = teacherBindHost(o);
    // The address the ranks use, and the one this script probes (the server runs on this machine).
    const std::string probe = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
    const std::string ranks = o.kind == LaunchKind::Sbatch && host == "0.0.0.0" ? "$MASTER_ADDR" : probe;
    out << "\n# The teacher server (xopd serve), started first on this machine; stopped when the script exits.\n"
        << "TEACHER_PORT=" << s.port << "\n"
        << "TEACHER_URL=\"http://" << ranks << ":$TEACHER_PORT\"\n";
    if (!s.api_key_env.empty())
        out << "if [ -z \"${" << s.api_key_env << ":-}\" ]; then\n"
            << "    echo \"launch: set " << s.api_key_env << " to the teacher server's key (for example: export " << s.api_key_env
            << "=\\$(openssl rand -hex 24)); it is read by the server and by every rank\" >&2\n"
            << "    exit 1\n"
            << "fi\n"
            << "export " << s.api_key_env << "\n";
    out << "\"$XOPD\" serve --model " << shellQuote(s.model_dir) << " --host " << host << " --port \"$TEACHER_PORT\"";
    if (!s.api_key_env.empty()) out << " --api-key-env " << s.api_key_env;
    out << " &\n"
        << "TEACHER_PID=$!\n"
        << "trap 'kill \"$TEACHER_PID\" 2>/dev/null || true' EXIT\n"
        << "for ((i = 0; ; ++i)); do\n"
        << "    if (exec 3<>/dev/tcp/" << probe << "/\"$TEACHER_PORT\") 2>/dev/null; then break; fi\n"
        << "    if ! kill -0 \"$TEACHER_PID\" 2>/dev/null; then\n"
        << "        echo \"launch: the teacher server exited before it listened on port $TEACHER_PORT\" >&2\n"
        << "        exit 1\n"
        << "    fi\n"
        << "    if ((i >= 1200)); then\n"
        << "        echo \"launch: the teacher server did not listen on port $TEACHER_PORT within 600 s\" >&2\n"
        << "        exit 1\n"
        << "    fi\n"
        << "    sleep 0.5\n"
        << "done\n";
}

}  // namespace

const char* launchKindName(LaunchKind kind) {
    switch (kind) {
        case LaunchKind::Torchrun: return "torchrun";
        case LaunchKind::Sbatch: return "sbatch";
        default: return "invalid";
    }
}

LaunchKind parseLaunchKind(const std::string& name) {
    if (name == "torchrun") return LaunchKind::Torchrun;
    if (name == "sbatch") return LaunchKind::Sbatch;
    XOPD_FAIL("launch script: unknown launcher '" << name << "' (torchrun, sbatch)");
}

std::string shellQuote(const std::string& s) {
    bool plain = !s.empty();
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string("_@%+=:,./-").find(c) != std::string::npos)) plain = false;
    if (plain) return s;
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string launchConfigPath(const std::string& run_dir) { return (fs::path(run_dir) / "launch-config.json").string(); }

std::string launchScript(const distill::DistillConfig& config, const LaunchScriptOptions& o) {
    checkOptions(config, o);
    const bool sbatch = o.kind == LaunchKind::Sbatch;
    const bool server = !o.teacher.model_dir.empty();
    const int world = o.nodes * o.procs_per_node;
    std::ostringstream out;
    out << "#!/bin/bash\n";
    if (sbatch) {
        // sbatch reads these lines itself (no shell quoting there): only plain values.
        out << "#SBATCH --job-name=" << jobNameOf(o) << "\n"
            << "#SBATCH --nodes=" << o.nodes << "\n"
            << "#SBATCH --ntasks-per-node=" << o.procs_per_node << "\n";
        if (o.gpus_per_node > 0) out << "#SBATCH --gpus-per-node=" << o.gpus_per_node << "\n";
        if (!o.time_limit.empty()) out << "#SBATCH --time=" << o.time_limit << "\n";
    }
    out << "# X-OPD Workbench launch script (xopd " << kVersion << "): " << distill::methodName(config.loss.method) << ", " << world
        << (world == 1 ? " rank" : " ranks");
    if (sbatch) out << " (" << o.nodes << (o.nodes == 1 ? " node" : " nodes") << " x " << o.procs_per_node << ") under Slurm\n";
    else out << " on this machine under torchrun\n";
    out << "#\n"
        << "# " << (sbatch ? "Submit with: sbatch SCRIPT" : "Start with: bash SCRIPT") << ". The run folder must be on storage every rank sees;\n"
        << "# rank 0 alone writes it. The first start writes the run's config to RUN_DIR/launch-config.json\n"
        << "# and starts a new run; a later start (after a stop, a failure or a time limit) resumes it.\n"
        << "# The models, prompts and paths in the config must exist on every node.\n"
        << "# XOPD=/path/to/xopd overrides the program (default: xopd on PATH)"
        << (sbatch ? ".\n" : "; TORCHRUN=... the launcher.\n");
    if (!sbatch)
        out << "#\n"
            << "# The launcher's flags are spelled with underscores, which torchrun takes from PyTorch 1.10 to 2.x\n"
            << "# (2.x also spells them with dashes: --no-python, --nproc-per-node). -r 1 -t 1 --log_dir keep each\n"
            << "# rank's output in RUN_DIR/launcher-logs; Debian 12's python3-torch 1.13 fails without them on\n"
            << "# Python 3.11. Debian's spelling of the same launch:\n"
            << "#   python3 -m torch.distributed.run --no_python --nproc_per_node " << o.procs_per_node << " --master_port "
            << o.master_port << " -r 1 -t 1 --log_dir DIR xopd distill ...\n";
    if (server)
        out << "# A teacher server (xopd serve) is started first"
            << (o.teacher.api_key_env.empty() ? ".\n" : "; export " + o.teacher.api_key_env + "=KEY before starting (it is never written here).\n")
            << "# A resumed run reads the teacher's URL from RUN_DIR/run.json (edit it there if the server moved).\n";
    out << "set -euo pipefail\n\n"
        << "XOPD=${XOPD:-xopd}\n";
    if (!sbatch) out << "TORCHRUN=${TORCHRUN:-torchrun}\n";
    out << "RUN_DIR=" << shellQuote(o.run_dir) << "\n"
        << "CONFIG=\"$RUN_DIR/launch-config.json\"\n"
        << "mkdir -p -- \"$RUN_DIR\"\n";
    if (sbatch)
        out << "\n# Rendezvous: the store on the first node of the allocation (where task 0, rank 0, runs).\n"
            << "if [ -z \"${SLURM_JOB_NODELIST:-}\" ]; then echo \"launch: not in a Slurm job (submit it: sbatch SCRIPT)\" >&2; exit 1; fi\n"
            << "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | sed -n 1p)\n"
            << "if [ -z \"$MASTER_ADDR\" ]; then echo \"launch: no host in SLURM_JOB_NODELIST\" >&2; exit 1; fi\n"
            << "export MASTER_ADDR\n"
            << "export MASTER_PORT=" << o.master_port << "\n";
    if (server) writeTeacherServer(out, o);
    out << "\n";
    writeArgs(out, config, o);
    out << "\n";
    const std::string exec = server ? "" : "exec ";  // with a server the script stays to stop it
    if (sbatch) {
        out << "# One task per rank: each reads SLURM_PROCID, SLURM_LOCALID and SLURM_NTASKS.\n"
            << exec << "srun --kill-on-bad-exit=1 \"$XOPD\" \"${ARGS[@]}\"\n";
    } else {
        out << exec << "\"$TORCHRUN\" --nproc_per_node " << o.procs_per_node << " --master_port " << o.master_port
            << " --max_restarts " << o.max_restarts << " -r 1 -t 1 --log_dir \"$RUN_DIR/launcher-logs\" \\\n"
            << "    --no_python \"$XOPD\" \"${ARGS[@]}\"\n";
    }
    return out.str();
}

void writeLaunchScript(const std::string& path, const std::string& text) {
    XOPD_CHECK(!path.empty(), "launch script: no file given");
    AtomicFile f(path);
    f.write(text.data(), text.size());
    f.setPermissions(0755);
    f.commit();
}

}  // namespace xopd::run

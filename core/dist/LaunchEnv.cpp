#include "core/dist/LaunchEnv.h"

#include "core/common/Error.h"

#include <cstdlib>
#include <sstream>

namespace xopd::dist {
namespace {

using Lookup = std::function<std::optional<std::string>(const std::string&)>;

int64_t integer(const Lookup& get, const std::string& name, int64_t fallback) {
    const auto v = get(name);
    if (!v || v->empty()) return fallback;
    size_t used = 0;
    long long x = 0;
    try {
        x = std::stoll(*v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    XOPD_CHECK(used == v->size(), "launch environment: " << name << "='" << *v << "' is not an integer");
    return int64_t(x);
}

bool present(const Lookup& get, const std::string& name) {
    const auto v = get(name);
    return v && !v->empty();
}

}  // namespace

const char* launcherName(Launcher l) {
    switch (l) {
        case Launcher::None: return "none";
        case Launcher::Torchrun: return "torchrun";
        case Launcher::Slurm: return "slurm";
        case Launcher::OpenMpi: return "openmpi";
        default: return "invalid";
    }
}

std::string LaunchEnv::describe() const {
    std::ostringstream os;
    os << "rank " << rank << "/" << world_size << " (" << launcherName(launcher) << ", local rank " << local_rank << ")";
    return os.str();
}

LaunchEnv parseLaunchEnv(const Lookup& get) {
    LaunchEnv e;
    // One row per contract, in the precedence of peers.md §6.2.
    struct Contract {
        Launcher launcher;
        const char *rank, *world, *local;
    };
    const Contract contracts[] = {
        {Launcher::Torchrun, "RANK", "WORLD_SIZE", "LOCAL_RANK"},
        {Launcher::Slurm, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
        {Launcher::OpenMpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
    };
    for (const auto& c : contracts) {
        if (!present(get, c.rank) || !present(get, c.world)) continue;
        e.launcher = c.launcher;
        e.rank = integer(get, c.rank, 0);
        e.world_size = integer(get, c.world, 1);
        e.local_rank = integer(get, c.local, 0);
        XOPD_CHECK(e.world_size >= 1, "launch environment: " << c.world << "=" << e.world_size << " must be at least 1");
        XOPD_CHECK(e.rank >= 0 && e.rank < e.world_size,
                   "launch environment: " << c.rank << "=" << e.rank << " is outside the world of " << e.world_size);
        XOPD_CHECK(e.local_rank >= 0, "launch environment: " << c.local << "=" << e.local_rank << " is negative");
        break;
    }
    // Slurm and Open MPI set their variables for one-task steps too (a plain sbatch script):
    // that is the single process, not a job of one.
    if (e.launcher == Launcher::Slurm || e.launcher == Launcher::OpenMpi) {
        if (e.world_size == 1) return LaunchEnv{};
    }
    if (e.launcher == Launcher::None) return e;

    if (const auto a = get("MASTER_ADDR")) e.master_addr = *a;
    e.master_port = integer(get, "MASTER_PORT", 0);
    if (e.world_size > 1 || e.launcher == Launcher::Torchrun) {
        XOPD_CHECK(!e.master_addr.empty() && e.master_port > 0,
                   "launch environment: " << e.describe()
                                          << " needs MASTER_ADDR and MASTER_PORT (the rendezvous host and port; under "
                                             "Slurm export them in the job script, see README \"Scaling out\")");
    }
    XOPD_CHECK(e.master_port >= 0 && e.master_port <= 65535,
               "launch environment: MASTER_PORT=" << e.master_port << " is not a TCP port");
    const auto agent = get("TORCHELASTIC_USE_AGENT_STORE");
    e.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
    e.restart_count = integer(get, "TORCHELASTIC_RESTART_COUNT", 0);
    return e;
}

LaunchEnv readLaunchEnv() {
    return parseLaunchEnv([](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    });
}

}  // namespace xopd::dist

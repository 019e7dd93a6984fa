#pragma once
// The launch contract: which rank of which job this process is, read from the variables that
// torchrun, Slurm's srun and Open MPI's mpirun set (spec: ../shared/spec/peers.md §6.2).
//
// Precedence: torchrun's RANK + WORLD_SIZE first, then SLURM_PROCID + SLURM_NTASKS, then
// OMPI_COMM_WORLD_RANK + OMPI_COMM_WORLD_SIZE; none of them set → a single process (the program as
// it was before data parallelism: no process group, byte-identical behaviour).
//
// Slurm and Open MPI set their variables for every task, also a plain one-task job step; a world of
// one from them is therefore a single process. torchrun's variables always mean a job, even of one
// rank: `torchrun --nproc_per_node 1` trains exactly as N ranks would (see Trainer's data-parallel
// sampling), which is what makes a run resumable at any world size.
//
//   auto env = dist::readLaunchEnv();          // from the process environment
//   if (env.distributed()) { auto g = dist::Group::join(env, timeout); ... }
//
// Torch-free. Threading: plain values and a pure function of its lookup.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace xopd::dist {

/// Who set the variables.
enum class Launcher {
    Invalid = 0,
    None,     ///< nothing set: a single process
    Torchrun, ///< RANK / WORLD_SIZE (torchrun, torch.distributed.run, or set by hand)
    Slurm,    ///< SLURM_PROCID / SLURM_NTASKS
    OpenMpi,  ///< OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE
};

/// "none", "torchrun", "slurm", "openmpi".
const char* launcherName(Launcher l);

/// This process's place in the job.
struct LaunchEnv {
    /// Which contract the values came from.
    Launcher launcher = Launcher::None;
    /// Global rank, 0 … world_size-1.
    int64_t rank = 0;
    /// Rank on this node: selects the GPU (cuda:local_rank).
    int64_t local_rank = 0;
    /// Number of processes in the job.
    int64_t world_size = 1;
    /// Rendezvous host (MASTER_ADDR); empty when not set.
    std::string master_addr;
    /// Rendezvous port (MASTER_PORT); 0 when not set.
    int64_t master_port = 0;
    /// TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already hosts the TCPStore at
    /// MASTER_ADDR:MASTER_PORT, so every rank (rank 0 too) joins it as a client.
    bool agent_store = false;
    /// TORCHELASTIC_RESTART_COUNT: > 0 when torchrun restarted the workers after a failure.
    int64_t restart_count = 0;

    /// True when this process is one rank of a job (and must join a process group).
    bool distributed() const { return launcher != Launcher::None; }
    /// "rank 1/2 (torchrun, local rank 1)".
    std::string describe() const;
};

/// Reads the contract through `lookup` (name → value or nullopt). Throws xopd::Error naming the
/// variable when a value is malformed (not an integer, rank outside the world, port out of range)
/// or when a multi-process job lacks MASTER_ADDR / MASTER_PORT.
LaunchEnv parseLaunchEnv(const std::function<std::optional<std::string>(const std::string&)>& lookup);

/// parseLaunchEnv over the process environment (std::getenv).
LaunchEnv readLaunchEnv();

}  // namespace xopd::dist

#pragma once
// One process group of a data-parallel job: c10d's TCPStore rendezvous and ProcessGroupGloo (the
// collectives; CUDA tensors are staged through host memory, see README "Scaling out"), plus a
// liveness heartbeat so that a collective that fails because a rank died says which rank it was.
//
//   auto env = dist::readLaunchEnv();
//   auto g = dist::Group::join(env, std::chrono::seconds(300));   // blocks until every rank joined
//   g->allreduceSum(grads);  g->broadcast(params, 0);
//
// Rendezvous: with TORCHELASTIC_USE_AGENT_STORE (torchrun) every rank joins the agent's TCPStore as
// a client, under the key prefix "/xopd/attempt_<restart count>/" so that a restarted job never
// reads the keys of the attempt before it; otherwise rank 0 hosts the TCPStore at MASTER_PORT.
//
// Faults: every collective waits at most `timeout`. When one fails (a peer's socket closed, or the
// timeout), the group asks the store which ranks stopped beating (each rank adds to its heartbeat
// key every 0.5 s from a thread with its own store connection) and throws xopd::Error naming them:
// "lost rank 1 (no heartbeat for 3 s) during allreduce: <Gloo's message>". A store that is gone
// itself means its host died: rank 0, or torchrun's agent.
//
// Threading: collectives from one thread (the run's worker), in the same order on every rank.
// Lifetime: shared by the trainer and the run controller; the destructor stops the heartbeat.

#include "core/dist/LaunchEnv.h"

#include "core/common/Tensors.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xopd::dist {

/// Reduction of allreduce.
enum class ReduceOp { Invalid = 0, Sum, Min, Max };

class Group {
public:
    /// Joins the job described by `env` (env.distributed() must be true). Waits at most `timeout`
    /// for the other ranks; throws xopd::Error naming the store address on failure.
    static std::shared_ptr<Group> join(const LaunchEnv& env, std::chrono::milliseconds timeout);
    ~Group();
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;

    int64_t rank() const { return env_.rank; }
    int64_t worldSize() const { return env_.world_size; }
    const LaunchEnv& env() const { return env_; }
    std::chrono::milliseconds timeout() const { return timeout_; }

    /// In-place allreduce of each tensor (one collective per tensor; flatten first to bucket).
    /// Every rank must pass tensors of the same shapes and dtypes in the same order.
    void allreduce(std::vector<torch::Tensor>& tensors, ReduceOp op = ReduceOp::Sum);
    /// In-place broadcast of each tensor from `root`.
    void broadcast(std::vector<torch::Tensor>& tensors, int64_t root = 0);
    /// Blocks until every rank reached it.
    void barrier();

    /// Which ranks stopped beating: "lost rank 1 (no heartbeat for 3 s)", or why that cannot be
    /// told ("the rendezvous store at H:P is gone ..."). Takes about 3 s (two heartbeat reads).
    std::string diagnoseLostRanks();

private:
    struct Impl;
    explicit Group(LaunchEnv env, std::chrono::milliseconds timeout);
    [[noreturn]] void fail(const std::string& what, const std::exception& e);
    LaunchEnv env_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xopd::dist

#include "core/dist/Group.h"

#include "core/common/Error.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

namespace xopd::dist {
namespace {

using Ms = std::chrono::milliseconds;
constexpr Ms kBeat{500};          ///< heartbeat period
constexpr Ms kLostAfter{3000};    ///< a rank whose counter did not move for this long is lost
constexpr Ms kStoreTimeout{5000}; ///< heartbeat / diagnosis store operations

std::string heartbeatKey(int64_t rank) { return "heartbeat/" + std::to_string(rank); }

/// A client (or, for rank 0 without torchrun's agent, the server) of the job's TCPStore, under the
/// attempt's prefix.
c10::intrusive_ptr<c10d::Store> connectStore(const LaunchEnv& env, bool server, Ms timeout) {
    c10d::TCPStoreOptions o;
    o.port = uint16_t(env.master_port);
    o.isServer = server;
    if (server) o.numWorkers = size_t(env.world_size);
    o.waitWorkers = false;  // the process group's own rendezvous waits for the ranks (with its timeout)
    o.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    return c10::make_intrusive<c10d::PrefixStore>("/xopd/attempt_" + std::to_string(env.restart_count), tcp);
}

std::shared_ptr<::gloo::transport::Device> glooDevice(const LaunchEnv& env) {
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
    // A loopback rendezvous means one machine: bind the loopback too (hostname lookups may name an
    // address that is not up, as in containers without networking).
    if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0)
        return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10d::ReduceOp reduceOp(ReduceOp op) {
    switch (op) {
        case ReduceOp::Sum: return c10d::ReduceOp::SUM;
        case ReduceOp::Min: return c10d::ReduceOp::MIN;
        case ReduceOp::Max: return c10d::ReduceOp::MAX;
        default: XOPD_FAIL("allreduce: invalid reduction");
    }
}

}  // namespace

struct Group::Impl {
    c10::intrusive_ptr<c10d::Store> store;  ///< rendezvous (rank 0 may host it)
    c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
    // Heartbeat: its own store connection, used only by its thread.
    std::thread beat;
    std::mutex mutex;
    std::condition_variable cv;
    bool stopping = false;
};

std::shared_ptr<Group> Group::join(const LaunchEnv& env, Ms timeout) {
    XOPD_CHECK(env.distributed(), "process group: this process is not a rank of a job");
    return std::shared_ptr<Group>(new Group(env, timeout));
}

Group::Group(LaunchEnv env, Ms timeout) : env_(std::move(env)), timeout_(timeout), impl_(std::make_unique<Impl>()) {
    const std::string where = env_.master_addr + ":" + std::to_string(env_.master_port);
    try {
        const bool server = env_.rank == 0 && !env_.agent_store;
        impl_->store = connectStore(env_, server, timeout_);
        auto opts = c10d::ProcessGroupGloo::Options::create(timeout_);
        opts->devices.push_back(glooDevice(env_));
        impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, int(env_.rank), int(env_.world_size), opts);
    } catch (const std::exception& e) {
        const auto* c = dynamic_cast<const c10::Error*>(&e);
        XOPD_FAIL(env_.describe() << ": cannot join the job at " << where << " within "
                                  << timeout_.count() / 1000 << " s: "
                                  << (c ? c->what_without_backtrace() : e.what()));
    }
    impl_->beat = std::thread([this] {
        c10::intrusive_ptr<c10d::Store> store;
        const std::string key = heartbeatKey(env_.rank);
        std::unique_lock<std::mutex> lock(impl_->mutex);
        while (!impl_->stopping) {
            lock.unlock();
            try {
                if (!store) store = connectStore(env_, false, kStoreTimeout);
                store->add(key, 1);
            } catch (const std::exception&) {
                store.reset();  // the store's host is gone or busy; a collective will tell
            }
            lock.lock();
            impl_->cv.wait_for(lock, kBeat, [this] { return impl_->stopping; });
        }
    });
}

Group::~Group() {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    if (impl_->beat.joinable()) impl_->beat.join();
}

std::string Group::diagnoseLostRanks() {
    const std::string where = env_.master_addr + ":" + std::to_string(env_.master_port);
    try {
        auto store = connectStore(env_, false, kStoreTimeout);
        std::vector<int64_t> before(size_t(env_.world_size)), after(size_t(env_.world_size));
        for (int64_t r = 0; r < env_.world_size; ++r) before[size_t(r)] = store->add(heartbeatKey(r), 0);
        std::this_thread::sleep_for(kLostAfter);
        for (int64_t r = 0; r < env_.world_size; ++r) after[size_t(r)] = store->add(heartbeatKey(r), 0);
        std::ostringstream os;
        int lost = 0;
        for (int64_t r = 0; r < env_.world_size; ++r) {
            if (r == env_.rank || after[size_t(r)] != before[size_t(r)]) continue;
            os << (lost++ ? ", " : "lost rank ") << r;
        }
        if (lost == 0) return "every rank still beats (a collective timed out: one rank slower than the timeout?)";
        os << " (no heartbeat for " << kLostAfter.count() / 1000 << " s)";
        return os.str();
    } catch (const std::exception&) {
        // Without torchrun's agent rank 0 hosts the store: its loss takes the store with it.
        if (!env_.agent_store) return "lost rank 0 (the rendezvous store it hosted at " + where + " is gone)";
        return "the rendezvous store at " + where + " is gone (torchrun's agent died)";
    }
}

void Group::fail(const std::string& what, const std::exception& e) {
    const auto* c = dynamic_cast<const c10::Error*>(&e);
    const std::string cause = c ? c->what_without_backtrace() : e.what();
    XOPD_FAIL(env_.describe() << ": " << diagnoseLostRanks() << "; " << what << " failed: " << cause);
}

namespace {

/// Runs a collective on host copies of CUDA tensors (Gloo here works on host memory).
template <class F>
void onHost(std::vector<torch::Tensor>& tensors, F&& op) {
    std::vector<torch::Tensor> host;
    host.reserve(tensors.size());
    for (auto& t : tensors) host.push_back(t.is_cuda() ? t.to(torch::kCPU) : t);
    op(host);
    for (size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].is_cuda()) tensors[i].copy_(host[i]);
}

}  // namespace

void Group::allreduce(std::vector<torch::Tensor>& tensors, ReduceOp op) {
    try {
        onHost(tensors, [&](std::vector<torch::Tensor>& host) {
            for (auto& t : host) {
                XOPD_CHECK(t.is_contiguous(), "allreduce: tensors must be contiguous");
                std::vector<torch::Tensor> one{t};
                c10d::AllreduceOptions o;
                o.reduceOp = reduceOp(op);
                o.timeout = timeout_;
                impl_->pg->allreduce(one, o)->wait(timeout_);
            }
        });
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        fail("allreduce", e);
    }
}

void Group::broadcast(std::vector<torch::Tensor>& tensors, int64_t root) {
    try {
        onHost(tensors, [&](std::vector<torch::Tensor>& host) {
            for (auto& t : host) {
                XOPD_CHECK(t.is_contiguous(), "broadcast: tensors must be contiguous");
                std::vector<torch::Tensor> one{t};
                c10d::BroadcastOptions o;
                o.rootRank = root;
                o.timeout = timeout_;
                impl_->pg->broadcast(one, o)->wait(timeout_);
            }
        });
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        fail("broadcast", e);
    }
}

void Group::barrier() {
    try {
        c10d::BarrierOptions o;
        o.timeout = timeout_;
        impl_->pg->barrier(o)->wait(timeout_);
    } catch (const std::exception& e) {
        fail("barrier", e);
    }
}

}  // namespace xopd::dist

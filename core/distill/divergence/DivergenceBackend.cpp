#include "core/distill/divergence/DivergenceBackend.h"

#include "core/common/Error.h"

#include <map>
#include <mutex>

namespace xopd::distill {
namespace {

std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}

std::map<c10::DeviceType, DivergenceBackend>& registry() {
    static std::map<c10::DeviceType, DivergenceBackend> r;
    return r;
}

}  // namespace

DivergenceBackend referenceDivergenceBackend() {
    DivergenceBackend b;
    b.name = "cpu-reference";
    b.divergence = [](const DivergenceInput& in, const DivergenceOptions& o) { return referenceDivergence(in, o); };
    b.tokenLogProbs = [](const torch::Tensor& logits, const torch::Tensor& ids, const torch::Tensor& mask,
                         double temperature) { return referenceTokenLogProbs(logits, ids, mask, temperature); };
    return b;
}

void registerDivergenceBackend(c10::DeviceType device, DivergenceBackend backend) {
    XOPD_CHECK(backend.divergence && backend.tokenLogProbs,
               "divergence backend '" << backend.name << "': both functions must be set");
    std::lock_guard<std::mutex> lock(registryMutex());
    registry()[device] = std::move(backend);
}

DivergenceBackend divergenceBackend(c10::DeviceType device) {
    {
        std::lock_guard<std::mutex> lock(registryMutex());
        auto it = registry().find(device);
        if (it != registry().end()) return it->second;
    }
    return referenceDivergenceBackend();
}

bool hasDivergenceBackend(c10::DeviceType device) {
    if (device == c10::DeviceType::CPU) return true;  // the reference is always there
    std::lock_guard<std::mutex> lock(registryMutex());
    return registry().count(device) > 0;
}

}  // namespace xopd::distill

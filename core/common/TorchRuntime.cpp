#include "core/common/TorchRuntime.h"

#include "core/common/Error.h"
#include "core/common/Tensors.h"

#include <unistd.h>

#include <link.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <thread>

namespace xopd {

void preferPassiveOpenMpWait(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY")) return;
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: then run on with the default policy
}

int configureThreads(int threads) {
    if (threads <= 0) {
        if (const char* env = std::getenv("XOPD_THREADS")) threads = std::atoi(env);
    }
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    return at::get_num_threads();
}

int torchThreads() { return at::get_num_threads(); }

std::string torchVersion() {
    return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
}

bool cudaAvailable() { return torch::cuda::is_available(); }

void checkDeviceAvailable(const std::string& device, const std::string& what) {
    if (device.rfind("cuda", 0) != 0) return;
    XOPD_CHECK(torch::cuda::is_available(),
               what << " '" << device << "': CUDA is not available in this build/machine (LibTorch " << torchVersion()
                    << (torch::cuda::device_count() == 0 ? ", no CUDA device visible" : "") << "); use cpu");
    if (device.size() > 5 && device[4] == ':') {
        const long index = std::strtol(device.c_str() + 5, nullptr, 10);
        const auto count = static_cast<long>(torch::cuda::device_count());
        XOPD_CHECK(index >= 0 && index < count,
                   what << " '" << device << "': there is no such CUDA device (" << count << " visible)");
    }
}

namespace {
int findBlas(dl_phdr_info* info, size_t, void* out) {
    const std::string name = info->dlpi_name ? info->dlpi_name : "";
    if (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos ||
        name.find("libmkl") != std::string::npos) {
        char resolved[PATH_MAX];
        *static_cast<std::string*>(out) = realpath(name.c_str(), resolved) ? resolved : name;
        return 1;
    }
    return 0;
}
}  // namespace

std::string blasLibrary() {
    std::string found;
    dl_iterate_phdr(findBlas, &found);
    return found.empty() ? "unknown" : found;
}

}  // namespace xopd

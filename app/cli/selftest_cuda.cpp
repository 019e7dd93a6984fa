// `xopd selftest`'s CUDA section. The checks themselves are the gpu-labelled test executable
// tests/gpu/test_cuda_backend.cpp, built beside this CLI when the kernels' LibTorch glue is
// (XOPD_CUDA_SELFTEST, app/cli/CMakeLists.txt); with --device cuda this runs it and passes its lines
// through. Without the glue (every CPU-only LibTorch) it says "cuda kernels: not built".
#include "app/cli/SelftestChecks.h"

#if defined(XOPD_CUDA_SELFTEST)
#include "kernels/CudaKernels.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <system_error>
#endif

namespace xopd::cli {

#if defined(XOPD_CUDA_SELFTEST)

namespace {

/// test_cuda_backend beside the running executable ("" when it is not there).
std::string cudaChecksExecutable() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const auto checks = exe.parent_path() / "test_cuda_backend";
    return std::filesystem::exists(checks, ec) ? checks.string() : std::string();
}

}  // namespace

int runCudaChecks(const std::string& device, std::ostream& out) {
    out << "cuda kernels: built (" << kernels::kernelArchs() << ")\n";
    if (device != "cuda") return 0;
    const std::string checks = cudaChecksExecutable();
    if (checks.empty()) {
        out << "cuda checks: test_cuda_backend is not beside this executable (build its target) FAIL\n";
        return 1;
    }
    FILE* pipe = ::popen(("'" + checks + "' 2>&1").c_str(), "r");
    if (!pipe) {
        out << "cuda checks: cannot start '" << checks << "' FAIL\n";
        return 1;
    }
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), int(buf.size()), pipe)) out << buf.data();
    const int status = ::pclose(pipe);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 77) out << "cuda checks: no CUDA device visible FAIL\n";
    return code == 0 ? 0 : 1;
}

#else  // no LibTorch CUDA glue in this build

int runCudaChecks(const std::string& device, std::ostream& out) {
    out << "cuda kernels: not built\n";
    return device == "cuda" ? 1 : 0;
}

#endif

}  // namespace xopd::cli

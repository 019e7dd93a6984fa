// `xopd selftest`: what this build and machine can do. Prints one "key: value" line per fact.
#include "app/cli/Commands.h"
#include "core/common/TorchRuntime.h"
#include "core/common/Version.h"
#include "app/cli/SelftestChecks.h"

#include <iostream>

namespace xopd::cli {

void addSelftestCommand(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("selftest", "Report LibTorch, CUDA, BLAS, threads and audio devices; "
                                               "with --device cuda, check the CUDA kernels and decoder against the CPU");
    auto device = std::make_shared<std::string>("cpu");
    cmd->add_option("--device", *device, "cpu, or cuda to run the GPU checks")->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([&run, device] {
        run = [device] {
            std::cout << "xopd: " << kVersion << "\n";
            std::cout << "libtorch: " << torchVersion() << "\n";
            std::cout << "cuda available: " << (cudaAvailable() ? "yes" : "no") << "\n";
            std::cout << "blas: " << blasLibrary() << "\n";
            std::cout << "threads: " << torchThreads() << "\n";
            return runSelftestChecks(*device, std::cout);
        };
    });
}

}  // namespace xopd::cli

#pragma once
// LibTorch runtime set-up and facts reported by `xopd selftest`.
//
// LibTorch starts with one intra-op thread on Debian; call configureThreads() once at program start
// (CLI, GUI and test mains do) so matrix products use every core.

#include <string>

namespace xopd {

/// Makes idle OpenMP threads sleep instead of spin: when $OMP_WAIT_POLICY is unset, sets it to
/// PASSIVE and re-executes the program (/proc/self/exe with the same argv); otherwise returns at
/// once. Call first thing in main(). Why: libgomp (LibTorch's and OpenBLAS's thread pool) reads the
/// variable once, before main(), and its default spin-wait made a demo-kit training step 25 times
/// slower on a loaded 2-core machine (80 % of the CPU spent spinning in libgomp).
void preferPassiveOpenMpWait(char** argv);

/// Sets LibTorch's intra-op thread count (and OpenMP's, which OpenBLAS uses).
/// threads <= 0 means one per hardware core, or $XOPD_THREADS when set. Returns the count in force.
int configureThreads(int threads = 0);

/// Current LibTorch intra-op thread count.
int torchThreads();

/// LibTorch version as "major.minor.patch".
std::string torchVersion();

/// True when LibTorch was built with CUDA and a device is visible.
bool cudaAvailable();

/// Throws xopd::Error in one line when `device` ("cpu", "cuda", "cuda:N") cannot be used here,
/// e.g. "train.device 'cuda': CUDA is not available in this build/machine (...)". `what` names
/// where the device came from. Call before placing anything on the device: LibTorch's own error
/// carries a C++ backtrace.
void checkDeviceAvailable(const std::string& device, const std::string& what);

/// The BLAS library actually loaded into this process (resolved path of libblas/libopenblas), or
/// "unknown". Debian's reference BLAS here means roughly 17x slower matrix products.
std::string blasLibrary();

}  // namespace xopd

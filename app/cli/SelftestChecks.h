#pragma once
// Sections of `xopd selftest` contributed by core areas. Each prints "key: value" lines and
// returns 0 when its checks passed.

#include <ostream>
#include <string>

namespace xopd::cli {

/// All sections below, in order. Returns 0 when every one passed.
int runSelftestChecks(const std::string& device, std::ostream& out);

/// selftest_audio.cpp: PortAudio devices found (none is not a failure).
int reportAudioDevices(std::ostream& out);

/// selftest_cuda.cpp: with device "cuda", runs tests/gpu's test_cuda_backend (every CUDA kernel and
/// the decoder against the CPU reference); with "cpu", a line saying whether the kernels were built.
int runCudaChecks(const std::string& device, std::ostream& out);

}  // namespace xopd::cli

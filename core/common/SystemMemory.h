#pragma once
// This machine's memory, for the checks that refuse a run or a command whose estimate does not fit
// before anything large is allocated (distill/RunEstimate.h, model/runtime/Generation.h).
//
// No LibTorch, no Qt. Threading: pure functions (read sysconf and /proc).

#include <cstdint>

namespace xopd {

/// Physical memory in bytes (sysconf), 0 when unknown.
uint64_t physicalMemoryBytes();

/// Memory available to a new allocation without swapping (MemAvailable of /proc/meminfo), falling
/// back to physicalMemoryBytes(); 0 when unknown.
uint64_t availableMemoryBytes();

}  // namespace xopd

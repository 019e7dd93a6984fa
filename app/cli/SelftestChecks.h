#pragma once
// Extra `xopd selftest` sections contributed by core areas (audio devices, CUDA kernel checks).
// Returns the exit code: 0 when every check passed.

#include <ostream>
#include <string>

namespace xopd::cli {
int runSelftestChecks(const std::string& device, std::ostream& out);
}

#include "app/cli/SelftestChecks.h"

namespace xopd::cli {

int runSelftestChecks(const std::string& device, std::ostream& out) {
    int failures = 0;
    failures += reportAudioDevices(out) != 0;
    failures += runCudaChecks(device, out) != 0;
    return failures == 0 ? 0 : 1;
}

}  // namespace xopd::cli

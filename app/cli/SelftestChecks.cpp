#include "app/cli/SelftestChecks.h"

namespace xopd::cli {

int runSelftestChecks(const std::string& device, std::ostream& out) {
    (void)device;
    (void)out;
    return 0;
}

}  // namespace xopd::cli

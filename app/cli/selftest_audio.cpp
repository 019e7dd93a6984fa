#include "app/cli/SelftestChecks.h"

namespace xopd::cli {
int reportAudioDevices(std::ostream& out) {
    out << "audio devices: (not implemented yet)\n";
    return 0;
}
}  // namespace xopd::cli

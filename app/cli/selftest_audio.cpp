// `xopd selftest` section: the PortAudio devices this machine has. None is not a failure (servers
// and CI have none); PortAudio failing to start is reported but is not a failure either.
#include "app/cli/SelftestChecks.h"
#include "core/audio/AudioDevices.h"
#include "core/common/Error.h"

namespace xopd::cli {

int reportAudioDevices(std::ostream& out) {
    try {
        const auto devices = audio::listAudioDevices();
        if (devices.empty()) {
            out << "audio devices: none\n";
            return 0;
        }
        int inputs = 0, outputs = 0;
        for (const auto& d : devices) {
            inputs += d.max_input_channels > 0;
            outputs += d.max_output_channels > 0;
        }
        out << "audio devices: " << devices.size() << " (" << inputs << " input, " << outputs << " output)\n";
        for (const auto& d : devices) {
            out << "audio device: " << d.name << " [" << d.host_api << "]"
                << (d.max_input_channels > 0 ? " in" : "") << (d.max_output_channels > 0 ? " out" : "")
                << (d.is_default_input ? " default-in" : "") << (d.is_default_output ? " default-out" : "") << "\n";
        }
    } catch (const Error& e) {
        out << "audio devices: unavailable (" << e.what() << ")\n";
    }
    return 0;
}

}  // namespace xopd::cli

#include "core/audio/AudioClip.h"

#include <cmath>
#include <cstdio>

namespace xopd::audio {

std::string formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto ms_total = static_cast<long long>(std::llround(seconds * 1000.0));
    const long long h = ms_total / 3600000, m = ms_total / 60000 % 60, s = ms_total / 1000 % 60,
                    ms = ms_total % 1000;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld.%03lld", h, m, s, ms);
    return buf;
}

}  // namespace xopd::audio

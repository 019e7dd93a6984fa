#include "core/demokit/BeepProbe.h"

#include "core/common/Error.h"
#include "core/demokit/DemoQuestions.h"

#include <cmath>
#include <cstdio>
#include <random>

namespace xopd::demokit {

namespace {

constexpr int kRate = 16000;
constexpr double kPi = 3.14159265358979323846;

/// Uniform in [lo, hi) from the generator's top 53 bits.
double uniform(std::mt19937_64& gen, double lo, double hi) {
    const double u = static_cast<double>(gen() >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

void appendSilence(std::vector<float>& out, double seconds) {
    out.insert(out.end(), static_cast<size_t>(seconds * kRate), 0.0f);
}

/// A sine beep with 10 ms raised-cosine ramps at both ends.
void appendBeep(std::vector<float>& out, double freq, double seconds, double level) {
    const int n = static_cast<int>(seconds * kRate), ramp = kRate / 100;
    for (int i = 0; i < n; ++i) {
        double env = 1.0;
        if (i < ramp) env = 0.5 - 0.5 * std::cos(kPi * i / ramp);
        if (n - 1 - i < ramp) env = 0.5 - 0.5 * std::cos(kPi * (n - 1 - i) / ramp);
        out.push_back(static_cast<float>(level * env * std::sin(2.0 * kPi * freq * i / kRate)));
    }
}

}  // namespace

std::string beepAnswer(int count) {
    XOPD_CHECK(count >= 1 && count <= 3, "beep probe: count " << count << " is not 1..3");
    return numberWords()[static_cast<size_t>(count)];
}

std::vector<BeepClip> beepClips(const std::string& name, int per_count, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::vector<BeepClip> out;
    for (int i = 0; i < 3 * per_count; ++i) {
        BeepClip clip;
        char id[64];
        std::snprintf(id, sizeof id, "beep-%s-%03d", name.c_str(), i);
        clip.id = id;
        clip.count = 1 + i % 3;
        auto& s = clip.audio.samples;
        clip.audio.sample_rate = kRate;
        const double level = uniform(gen, 0.25, 0.6);
        appendSilence(s, uniform(gen, 0.05, 0.15));
        for (int b = 0; b < clip.count; ++b) {
            if (b > 0) appendSilence(s, uniform(gen, 0.10, 0.22));
            appendBeep(s, uniform(gen, 500.0, 1500.0), uniform(gen, 0.10, 0.18), level);
        }
        appendSilence(s, uniform(gen, 0.05, 0.15));
        for (auto& x : s) x += static_cast<float>(uniform(gen, -0.003, 0.003));
        out.push_back(std::move(clip));
    }
    return out;
}

}  // namespace xopd::demokit

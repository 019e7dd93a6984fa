// Whisper log-mel feature extraction speed, in multiples of real time, on one thread: the C++
// front end (float64 and float32 arithmetic) on 30 s of noise at 16 kHz. bench-audio.sh runs the
// float64 numpy reference (tests/reference/audio/whisper_features_ref.py --bench) in the same run.
// usage: bench_audio [--mel-bins 80|128] [--seconds S]
#include "core/audio/WhisperFeatures.h"
#include "core/common/TorchRuntime.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

using namespace xopd::audio;

namespace {

double realTimeFactor(const std::vector<float>& x, WhisperFeatureOptions o) {
    computeWhisperFeatures(x, o);  // warm-up
    int reps = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (reps < 3 || elapsed < 3.0) {
        computeWhisperFeatures(x, o);
        ++reps;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const double audio_s = std::min(30.0, double(x.size()) / 16000.0);
    return audio_s / (elapsed / reps);
}

}  // namespace

int main(int argc, char** argv) {
    int mel_bins = 128;
    double seconds = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--mel-bins")) mel_bins = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    }
    xopd::configureThreads(1);
    std::mt19937 rng(0);
    std::normal_distribution<float> noise(0.0f, 0.1f);
    std::vector<float> x(size_t(seconds * 16000));
    for (auto& v : x) v = noise(rng);
    WhisperFeatureOptions o;
    o.mel_bins = mel_bins;
    o.precision = FeaturePrecision::Float64;
    const double f64 = realTimeFactor(x, o);
    o.precision = FeaturePrecision::Float32;
    const double f32 = realTimeFactor(x, o);
    std::printf("cpp_float64 %.2f\ncpp_float32 %.2f\n", f64, f32);
    return 0;
}

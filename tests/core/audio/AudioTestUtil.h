#pragma once
// Helpers of the audio tests: the python interpreter that has numpy, raw float files, signal
// generators, and spectral peak measurement.

#include "tests/support/TestSupport.h"

#include <QFile>
#include <QString>
#include <QtTest/QtTest>

#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace xopd::test::audio {

/// A python3 that can import numpy ("" when none): $XOPD_PYTHON, python3, /usr/bin/python3.
inline QString pythonWithNumpy() {
    static QString found = [] {
        QStringList candidates;
        if (qEnvironmentVariableIsSet("XOPD_PYTHON")) candidates << qEnvironmentVariable("XOPD_PYTHON");
        candidates << "python3" << "/usr/bin/python3";
        for (const QString& py : candidates) {
            const ProcessResult r = runProgram(py, {"-c", "import numpy"}, 60000);
            if (r.exitCode == 0) return py;
        }
        return QString();
    }();
    return found;
}

/// The float64 Whisper reference script.
inline QString whisperReferenceScript() {
    return sourceDir() + "/tests/reference/audio/whisper_features_ref.py";
}

inline void writeRawFloat32(const QString& path, const std::vector<float>& x) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(reinterpret_cast<const char*>(x.data()), static_cast<qint64>(x.size() * sizeof(float)));
}

inline std::vector<double> readRawFloat64(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    const QByteArray b = f.readAll();
    std::vector<double> v(static_cast<size_t>(b.size()) / sizeof(double));
    std::memcpy(v.data(), b.data(), v.size() * sizeof(double));
    return v;
}

/// Linear chirp from f0 to f1 Hz over `seconds`.
inline std::vector<float> chirp(double f0, double f1, double seconds, int rate, double amplitude = 0.5) {
    const auto n = static_cast<size_t>(std::llround(seconds * rate));
    std::vector<float> x(n);
    const double k = (f1 - f0) / seconds;
    for (size_t i = 0; i < n; ++i) {
        const double t = double(i) / rate;
        x[i] = static_cast<float>(amplitude * std::sin(2.0 * M_PI * (f0 * t + 0.5 * k * t * t)));
    }
    return x;
}

/// Gaussian noise with standard deviation sigma (seeded).
inline std::vector<float> noise(size_t n, double sigma, unsigned seed = 1) {
    std::mt19937 gen(seed);
    std::normal_distribution<double> d(0.0, sigma);
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(d(gen));
    return x;
}

/// Frequency (Hz) of the strongest component, by a Hann-windowed DFT evaluated on a fine grid
/// around the coarse peak (plain O(n * bins) DFT; fine for test-sized signals).
inline double dominantFrequency(const std::vector<float>& x, int rate, double fmin = 20, double fmax = -1) {
    if (fmax < 0) fmax = rate / 2.0;
    const size_t n = x.size();
    auto power = [&](double f) {
        std::complex<double> acc = 0;
        const double w = 2.0 * M_PI * f / rate;
        for (size_t i = 0; i < n; ++i) {
            const double hann = 0.5 - 0.5 * std::cos(2.0 * M_PI * double(i) / double(n));
            acc += double(x[i]) * hann * std::polar(1.0, -w * double(i));
        }
        return std::norm(acc);
    };
    double best = fmin, best_p = -1;
    for (double f = fmin; f <= fmax; f += 10.0) {
        const double p = power(f);
        if (p > best_p) best_p = p, best = f;
    }
    for (double f = best - 10; f <= best + 10; f += 0.25) {
        const double p = power(f);
        if (p > best_p) best_p = p, best = f;
    }
    return best;
}

/// Energy of `x` between lo and hi Hz by a plain Hann-windowed DFT (O(n * bins); no library, so it
/// can judge a library's filter; the window keeps a strong band's leakage out of a weak one's bins).
inline double bandEnergy(const std::vector<float>& x, int rate, double lo, double hi) {
    const size_t n = x.size();
    std::vector<double> xw(n);
    for (size_t i = 0; i < n; ++i) xw[i] = double(x[i]) * (0.5 - 0.5 * std::cos(2.0 * M_PI * double(i) / double(n)));
    double e = 0;
    for (size_t k = 1; k < n / 2; ++k) {
        const double f = double(k) * rate / double(n);
        if (f < lo || f > hi) continue;
        std::complex<double> acc = 0;
        const double w = -2.0 * M_PI * double(k) / double(n);
        for (size_t i = 0; i < n; ++i) acc += xw[i] * std::polar(1.0, w * double(i));
        e += std::norm(acc);
    }
    return e;
}

}  // namespace xopd::test::audio

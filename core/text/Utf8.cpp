#include "core/text/Utf8.h"

#include <cstdint>
#include <cstring>

namespace xopd::text {

namespace {

/// Length of the maximal prefix of an ill-formed or well-formed sequence at s[i] (Unicode Table 3-7).
/// Returns {length, wellFormed}.
struct SeqInfo {
    size_t length;
    bool ok;
};

SeqInfo scanSequence(std::string_view s, size_t i) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    const unsigned char b0 = p[i];
    if (b0 < 0x80) return {1, true};
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 == 0xE0) {
        need = 2; lo = 0xA0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
        need = 2;
    } else if (b0 == 0xED) {
        need = 2; hi = 0x9F;
    } else if (b0 == 0xF0) {
        need = 3; lo = 0x90;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        need = 3;
    } else if (b0 == 0xF4) {
        need = 3; hi = 0x8F;
    } else {
        return {1, false};  // 80..C1, F5..FF never start a sequence
    }
    size_t k = 1;
    for (; k <= need; ++k) {
        if (i + k >= n) return {k, false};
        const unsigned char b = p[i + k];
        const unsigned char l = (k == 1) ? lo : 0x80;
        const unsigned char h = (k == 1) ? hi : 0xBF;
        if (b < l || b > h) return {k, false};
    }
    return {need + 1, true};
}

}  // namespace

size_t utf8SequenceLength(std::string_view s, size_t i) {
    const SeqInfo info = scanSequence(s, i);
    return info.ok ? info.length : 0;
}

bool isAscii(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        if (w & 0x8080808080808080ULL) return false;
        p += 8;
        n -= 8;
    }
    for (size_t i = 0; i < n; ++i)
        if (static_cast<unsigned char>(p[i]) & 0x80) return false;
    return true;
}

size_t firstInvalidUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const SeqInfo info = scanSequence(s, i);
        if (!info.ok) return i;
        i += info.length;
    }
    return std::string_view::npos;
}

std::string replaceInvalidUtf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const SeqInfo info = scanSequence(s, i);
        if (info.ok)
            out.append(s.data() + i, info.length);
        else
            out.append("\xEF\xBF\xBD");
        i += info.length;
    }
    return out;
}

}  // namespace xopd::text

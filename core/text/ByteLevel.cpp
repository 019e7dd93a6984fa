#include "core/text/ByteLevel.h"

#include "core/text/Utf8.h"

#include <vector>

namespace xopd::text {

namespace {

struct Tables {
    std::array<char32_t, 256> codePoint{};
    std::array<std::string, 256> symbol;
    std::array<uint8_t, 256> vocabOrder{};
    std::array<int16_t, 324> byteOfCodePoint{};  // code points 0..323 -> byte or -1

    Tables() {
        byteOfCodePoint.fill(-1);
        std::array<bool, 256> selfMapped{};
        int k = 0;
        auto self = [&](int lo, int hi) {
            for (int b = lo; b <= hi; ++b) {
                selfMapped[b] = true;
                codePoint[b] = static_cast<char32_t>(b);
                vocabOrder[k++] = static_cast<uint8_t>(b);
            }
        };
        self(33, 126);
        self(161, 172);
        self(174, 255);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            if (selfMapped[b]) continue;
            codePoint[b] = static_cast<char32_t>(256 + n++);
            vocabOrder[k++] = static_cast<uint8_t>(b);
        }
        for (int b = 0; b < 256; ++b) {
            const char32_t c = codePoint[b];
            byteOfCodePoint[c] = static_cast<int16_t>(b);
            std::string s;
            if (c < 0x80) {
                s.push_back(static_cast<char>(c));
            } else {  // all code points here are < 0x800: two bytes
                s.push_back(static_cast<char>(0xC0 | (c >> 6)));
                s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
            }
            symbol[b] = s;
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

char32_t byteToCodePoint(uint8_t b) { return tables().codePoint[b]; }

const std::string& byteToSymbol(uint8_t b) { return tables().symbol[b]; }

const std::array<uint8_t, 256>& bytesInVocabularyOrder() { return tables().vocabOrder; }

std::optional<std::string> symbolsToBytes(std::string_view token) {
    const Tables& t = tables();
    std::string out;
    out.reserve(token.size());
    size_t i = 0;
    while (i < token.size()) {
        const auto b0 = static_cast<unsigned char>(token[i]);
        char32_t c;
        if (b0 < 0x80) {
            c = b0;
            i += 1;
        } else if ((b0 & 0xE0) == 0xC0 && i + 1 < token.size()) {
            const auto b1 = static_cast<unsigned char>(token[i + 1]);
            if ((b1 & 0xC0) != 0x80) return std::nullopt;
            c = (static_cast<char32_t>(b0 & 0x1F) << 6) | (b1 & 0x3F);
            if (c < 0x80) return std::nullopt;  // overlong
            i += 2;
        } else {
            return std::nullopt;  // three- and four-byte code points are outside the alphabet
        }
        if (c >= t.byteOfCodePoint.size() || t.byteOfCodePoint[c] < 0) return std::nullopt;
        out.push_back(static_cast<char>(t.byteOfCodePoint[c]));
    }
    return out;
}

std::string bytesToSymbols(std::string_view raw) {
    const Tables& t = tables();
    std::string out;
    out.reserve(raw.size() * 2);
    for (const char ch : raw) out += t.symbol[static_cast<uint8_t>(ch)];
    return out;
}

}  // namespace xopd::text

#include "core/eval/AnswerMatch.h"

#include "core/common/Error.h"

#include <sstream>
#include <vector>

namespace xopd::eval {

MatchMode parseMatchMode(const std::string& name) {
    if (name == "exact") return MatchMode::Exact;
    if (name == "contains") return MatchMode::Contains;
    XOPD_FAIL("unknown match mode '" << name << "' (expected exact or contains)");
}

std::string normalizeAnswer(const std::string& text) {
    std::string spaced;
    spaced.reserve(text.size());
    for (unsigned char c : text) {
        if (c >= 'A' && c <= 'Z')
            spaced += static_cast<char>(c - 'A' + 'a');
        else if (c < 0x80 && !std::isalnum(c))
            spaced += ' ';  // punctuation and ASCII whitespace/control characters
        else
            spaced += static_cast<char>(c);  // letters, digits, non-ASCII bytes kept as they are
    }
    std::istringstream words(spaced);
    std::string word, out;
    while (words >> word) {
        if (word == "a" || word == "an" || word == "the") continue;
        if (!out.empty()) out += ' ';
        out += word;
    }
    return out;
}

bool answerMatches(const std::string& prediction, const std::string& reference, MatchMode mode) {
    const std::string ref = normalizeAnswer(reference);
    if (ref.empty()) return false;
    const std::string pred = normalizeAnswer(prediction);
    switch (mode) {
        case MatchMode::Exact:
            return pred == ref;
        case MatchMode::Contains:
            return (" " + pred + " ").find(" " + ref + " ") != std::string::npos;
        case MatchMode::Invalid:
            break;
    }
    XOPD_FAIL("answerMatches: invalid match mode");
}

}  // namespace xopd::eval

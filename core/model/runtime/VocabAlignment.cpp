#include "core/model/runtime/VocabAlignment.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace xopd::model {

namespace {
std::string idList(const std::vector<int64_t>& ids) {
    std::ostringstream os;
    os << "{";
    for (size_t i = 0; i < ids.size(); ++i) os << (i ? ", " : "") << ids[i];
    os << "}";
    return os.str();
}
std::string stringList(const std::vector<std::string>& s) {
    std::ostringstream os;
    for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << "\"" << s[i] << "\"";
    return os.str();
}
}  // namespace

VocabSide vocabSide(const std::string& name, const ModelRuntimeConfig& config) {
    VocabSide s;
    s.name = name;
    s.embedding_rows = config.text.vocab_size;
    s.eos_ids = config.text.eos_token_ids;
    s.modality_ids = config.modality_token_ids;
    return s;
}

bool VocabAlignment::isShared(int64_t id) const {
    if (id < 0) return false;
    if (id < regular_end) return !std::binary_search(excluded.begin(), excluded.end(), id);
    return std::find(shared_specials.begin(), shared_specials.end(), id) != shared_specials.end();
}

int64_t VocabAlignment::sharedCount() const {
    return regular_end - static_cast<int64_t>(excluded.size()) + static_cast<int64_t>(shared_specials.size());
}

std::vector<int64_t> VocabAlignment::maskedIds(int64_t rows) const {
    std::vector<int64_t> out;
    for (int64_t id : excluded)
        if (id < rows) out.push_back(id);
    for (int64_t id = std::max<int64_t>(regular_end, 0); id < rows; ++id)
        if (!isShared(id)) out.push_back(id);
    return out;
}

VocabAlignment alignVocabularies(const VocabSide& t, const VocabSide& s) {
    VocabAlignment a;
    const int64_t qwen_min = kQwenRegularTokens + 3;
    if (t.size() >= qwen_min && s.size() >= qwen_min) {
        a.qwen_rule = true;
        a.regular_end = kQwenRegularTokens;
        a.shared_specials.assign(std::begin(kQwenSharedSpecials), std::end(kQwenSharedSpecials));
    } else {
        a.regular_end = std::min(t.size(), s.size());
    }
    std::set<int64_t> ex;
    for (const auto* side : {&t, &s})
        for (int64_t id : side->modality_ids)
            if (id >= 0 && id < a.regular_end) ex.insert(id);
    a.excluded.assign(ex.begin(), ex.end());
    // A modality id among the shared specials is not shared either.
    a.shared_specials.erase(std::remove_if(a.shared_specials.begin(), a.shared_specials.end(),
                                           [&](int64_t id) {
                                               for (const auto* side : {&t, &s})
                                                   for (int64_t m : side->modality_ids)
                                                       if (m == id) return true;
                                               return false;
                                           }),
                            a.shared_specials.end());
    return a;
}

CompatibilityReport checkCompatibility(const VocabSide& t, const VocabSide& s) {
    CompatibilityReport r;
    r.alignment = alignVocabularies(t, s);
    const VocabAlignment& a = r.alignment;
    for (const auto* side : {&t, &s}) {
        if (side->tokenizer_size > 0 && side->embedding_rows < side->tokenizer_size)
            r.problems.push_back(side->name + " has " + std::to_string(side->embedding_rows) +
                                 " embedding rows but its tokenizer has " + std::to_string(side->tokenizer_size) +
                                 " tokens");
        if (side->tokenizer_size > 0 && side->embedding_rows > side->tokenizer_size)
            r.notes.push_back(side->name + ": " + std::to_string(side->embedding_rows - side->tokenizer_size) +
                              " padded embedding rows (ids " + std::to_string(side->tokenizer_size) + "-" +
                              std::to_string(side->embedding_rows - 1) + ") are masked");
    }
    r.notes.push_back("vocabulary sizes: " + t.name + " " + std::to_string(t.size()) + " tokens (" +
                      std::to_string(t.embedding_rows) + " rows), " + s.name + " " + std::to_string(s.size()) +
                      " tokens (" + std::to_string(s.embedding_rows) + " rows)");
    r.notes.push_back(std::string("shared range: ") + std::to_string(a.sharedCount()) + " ids (" +
                      (a.qwen_rule ? "Qwen rule: ids below 151643 plus 151643-151645"
                                   : "ids below " + std::to_string(a.regular_end)) +
                      (a.excluded.empty() ? "" : ", minus modality ids " + idList(a.excluded)) + ")");
    if (a.sharedCount() <= 0) r.problems.push_back("the two vocabularies share no ids");

    if (t.token_text && s.token_text) {
        int64_t mismatches = 0;
        std::vector<std::string> examples;
        for (int64_t id = 0; id < a.regular_end; ++id) {
            if (!a.isShared(id)) continue;
            std::string x = t.token_text(id), y = s.token_text(id);
            if (x != y) {
                ++mismatches;
                if (examples.size() < 3) examples.push_back("id " + std::to_string(id) + " is \"" + x + "\" vs \"" + y + "\"");
            }
        }
        for (int64_t id : a.shared_specials)
            if (t.token_text(id) != s.token_text(id)) {
                ++mismatches;
                if (examples.size() < 3)
                    examples.push_back("id " + std::to_string(id) + " is \"" + t.token_text(id) + "\" vs \"" +
                                       s.token_text(id) + "\"");
            }
        if (mismatches > 0) {
            std::string e;
            for (const auto& x : examples) e += (e.empty() ? "" : "; ") + x;
            r.problems.push_back("the tokenizers disagree on " + std::to_string(mismatches) +
                                 " ids of the shared range (" + e + ")");
        } else {
            r.notes.push_back("the tokenizers agree on every id of the shared range");
        }
    } else {
        r.notes.push_back("tokenizers not compared (id -> string unknown for " +
                          std::string(!t.token_text ? t.name : s.name) + ")");
    }

    std::vector<int64_t> common;
    for (int64_t id : t.eos_ids)
        if (std::find(s.eos_ids.begin(), s.eos_ids.end(), id) != s.eos_ids.end()) common.push_back(id);
    if (t.eos_ids.empty() || s.eos_ids.empty()) {
        r.notes.push_back("EOS ids unknown for " + std::string(t.eos_ids.empty() ? t.name : s.name));
    } else if (common.empty()) {
        r.problems.push_back("EOS ids differ: " + t.name + " " + idList(t.eos_ids) + ", " + s.name + " " +
                             idList(s.eos_ids) + "; the teacher could not score the student's end of answer");
    } else {
        bool shared = false;
        for (int64_t id : common) shared = shared || a.isShared(id);
        if (!shared)
            r.problems.push_back("the common EOS ids " + idList(common) + " lie outside the shared range");
        else
            r.notes.push_back("common EOS ids " + idList(common));
    }

    if (!t.stop_strings.empty() && !s.stop_strings.empty()) {
        bool any = false;
        for (const auto& x : t.stop_strings)
            any = any || std::find(s.stop_strings.begin(), s.stop_strings.end(), x) != s.stop_strings.end();
        if (!any)
            r.problems.push_back("chat-template stop strings differ: " + t.name + " " + stringList(t.stop_strings) +
                                 ", " + s.name + " " + stringList(s.stop_strings));
        else if (t.stop_strings != s.stop_strings)
            r.notes.push_back("stop strings overlap but differ: " + t.name + " " + stringList(t.stop_strings) + ", " +
                              s.name + " " + stringList(s.stop_strings));
    }
    r.compatible = r.problems.empty();
    return r;
}

std::string CompatibilityReport::text() const {
    std::ostringstream os;
    os << (compatible ? "These models can be distilled: they share a vocabulary range."
                      : "These models cannot be distilled:")
       << "\n";
    for (const auto& p : problems) os << "  problem: " << p << "\n";
    for (const auto& n : notes) os << "  note: " << n << "\n";
    return os.str();
}

}  // namespace xopd::model

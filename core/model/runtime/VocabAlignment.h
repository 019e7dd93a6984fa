#pragma once
// Teacher/student vocabulary alignment (spec model-formats.md §12): which token ids mean the same
// thing in both models, which rows must be masked before any distribution comparison or sampling
// (padded embedding rows, modality-specific special ids), and a compatibility gate that says in
// plain words whether a pair can be distilled.
//
// Shared range:
//   - Qwen vocabularies (both tokenizers have >= 151646 entries): ids [0, 151643) plus the three
//     common specials 151643-151645 (<|endoftext|>, <|im_start|>, <|im_end|>); ids >= 151646 differ.
//   - other (tiny test) vocabularies: ids [0, min(tokenizer sizes)) minus both models' modality ids.
//
//   VocabSide t = vocabSide("teacher", teacher_cfg);  VocabSide s = vocabSide("student", student_cfg);
//   CompatibilityReport r = checkCompatibility(t, s);
//   if (!r.compatible) throw xopd::Error(r.text());
//   std::vector<int64_t> mask_ids = r.alignment.maskedIds(student_rows);   // logit -inf in the sampler
//
// Torch-free (the GUI may show the report). Threading: plain values and pure functions.

#include "core/model/runtime/RuntimeConfig.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xopd::model {

/// Regular (merge-built) tokens of the Qwen1/1.5/2/2.5/Omni byte-level BPE.
constexpr int64_t kQwenRegularTokens = 151643;
/// <|endoftext|>, <|im_start|>, <|im_end|>: the specials all Qwen vocabularies share.
constexpr int64_t kQwenSharedSpecials[3] = {151643, 151644, 151645};

/// What the alignment needs to know about one model.
struct VocabSide {
    std::string name;                      ///< shown in the report ("teacher", a folder, ...)
    int64_t embedding_rows = 0;            ///< rows of embed_tokens / lm_head (config vocab_size)
    int64_t tokenizer_size = 0;            ///< real tokenizer size incl. added tokens; 0 = unknown (use rows)
    std::vector<int64_t> eos_ids;          ///< end-of-sequence / stop ids of the model
    std::vector<int64_t> modality_ids;     ///< ids whose meaning is modality specific (<|AUDIO|>, ...)
    std::vector<std::string> stop_strings; ///< chat-template stop strings ("<|im_end|>")
    /// id -> token string (from the tokenizer); empty when no tokenizer is given.
    std::function<std::string(int64_t)> token_text;

    int64_t size() const { return tokenizer_size > 0 ? tokenizer_size : embedding_rows; }
};

/// A VocabSide from a runtime config (rows, eos ids, modality ids); tokenizer fields left empty.
VocabSide vocabSide(const std::string& name, const ModelRuntimeConfig& config);

/// The ids two models share.
struct VocabAlignment {
    int64_t regular_end = 0;                  ///< ids [0, regular_end) are shared unless excluded
    std::vector<int64_t> shared_specials;     ///< extra shared ids >= regular_end (Qwen: 151643-151645)
    std::vector<int64_t> excluded;            ///< ids < regular_end removed (modality ids), sorted
    bool qwen_rule = false;                   ///< true when the Qwen rule applied

    bool isShared(int64_t id) const;
    /// Number of shared ids.
    int64_t sharedCount() const;
    /// Every id in [0, rows) that is NOT shared, sorted (padded rows, modality ids, others' specials).
    std::vector<int64_t> maskedIds(int64_t rows) const;
};

/// Computes the shared range of two models (rules above).
VocabAlignment alignVocabularies(const VocabSide& teacher, const VocabSide& student);

/// The compatibility gate's verdict.
struct CompatibilityReport {
    bool compatible = false;             ///< false: refuse to start a run
    std::vector<std::string> problems;   ///< reasons it cannot be distilled
    std::vector<std::string> notes;      ///< facts worth knowing (padded rows, masked ids, ...)
    VocabAlignment alignment;            ///< the shared range
    /// Plain-words summary, one fact per line, starting with the verdict.
    std::string text() const;
};

/// Compares vocabulary sizes, id -> string on the shared range (when both tokenizers are given),
/// EOS ids, template stop strings and padded rows.
CompatibilityReport checkCompatibility(const VocabSide& teacher, const VocabSide& student);

}  // namespace xopd::model

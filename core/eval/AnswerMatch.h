#pragma once
// Scoring one generated answer against a reference answer.
//
// Normalisation (SQuAD-style): lowercase (ASCII), punctuation replaced by spaces, the articles
// "a", "an", "the" removed as whole words, runs of whitespace collapsed, ends trimmed.
// Exact match: normalised strings are equal. Containment: the normalised reference occurs in the
// normalised prediction as a run of whole words (so "seven" is in "it is seven" but not in "seventeen").
//
// Threading: pure functions.

#include <string>

namespace xopd::eval {

/// How a prediction is compared with the reference. Zero is invalid.
enum class MatchMode {
    Invalid = 0,
    /// Normalised prediction == normalised reference.
    Exact = 1,
    /// Normalised reference is a whole-word run inside the normalised prediction.
    Contains = 2,
};

/// Parses "exact" or "contains"; throws xopd::Error otherwise.
MatchMode parseMatchMode(const std::string& name);

/// The normalised form of an answer (see the header comment).
std::string normalizeAnswer(const std::string& text);

/// Whether `prediction` matches `reference` under `mode`. An empty normalised reference never matches.
bool answerMatches(const std::string& prediction, const std::string& reference, MatchMode mode);

}  // namespace xopd::eval

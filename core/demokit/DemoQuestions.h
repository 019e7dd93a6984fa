#pragma once
// The demo kit's question-answering task (kit version 3): short spoken-style questions with
// one-word answers over a tiny vocabulary, generated from fixed word lists, so the set, its order
// and its split never change.
//
// The split is by *question*, as the paper trains on one set of prompts and measures on others:
// - "train": the questions the kit's student hears in its build and distillation runs train on;
// - "validation" and "test": held-out questions of the compositional categories (arithmetic,
//   weekday), whose every word is heard in some training question (checked by
//   checkDemoQuestionSplit), so a student can answer them by understanding, not by memory; the
//   closed-set categories (colour, capital, opposite, animal: each word is heard in one question
//   only) are all "train";
// - the held-out category (kHeldOutCategory, "counting": "what number comes after five") is never
//   trained: its words are heard in arithmetic and weekday questions, its form is new. Its questions
//   have split "test" and category "counting".
//
// Threading: pure functions of no input; safe anywhere.

#include <string>
#include <vector>

namespace xopd::demokit {

/// The category no training data of the kit holds (a harder generalisation test).
inline constexpr const char* kHeldOutCategory = "counting";

/// One question of the demo task.
struct DemoQuestion {
    /// Stable id, e.g. "q017".
    std::string id;
    /// The question as it is spoken and as the teacher reads it (lowercase, no punctuation).
    std::string question;
    /// The one-word reference answer.
    std::string answer;
    /// Category: arithmetic, weekday, colour, capital, opposite, animal, counting.
    std::string category;
    /// "train", "validation" or "test" (see above).
    std::string split;
};

/// All questions of the demo task, in a fixed order (233).
std::vector<DemoQuestion> demoQuestions();

/// Number words 0..20 ("zero" ... "twenty").
const std::vector<std::string>& numberWords();

/// Throws xopd::Error naming the question and the word when a validation or test question of a
/// trained category holds a word that no training question holds, or when the held-out category
/// has a training question.
void checkDemoQuestionSplit(const std::vector<DemoQuestion>& questions);

}  // namespace xopd::demokit

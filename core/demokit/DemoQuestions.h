#pragma once
// The demo kit's question-answering task: short spoken-style questions with one-word answers
// over a tiny vocabulary (arithmetic, colours, opposites, capitals, animal sounds, counting,
// weekdays). Generated from fixed word lists, so the set and its order never change.
//
// Threading: pure function of no input; safe anywhere.

#include <string>
#include <vector>

namespace xopd::demokit {

/// One question of the demo task.
struct DemoQuestion {
    /// Stable id, e.g. "q017".
    std::string id;
    /// The question as it is spoken and as the teacher reads it (lowercase, no punctuation).
    std::string question;
    /// The one-word reference answer.
    std::string answer;
    /// Category tag: arithmetic, colour, opposite, capital, animal, counting, weekday.
    std::string category;
};

/// All questions of the demo task, in a fixed order (about 150).
std::vector<DemoQuestion> demoQuestions();

/// Number words 0..20 ("zero" ... "twenty").
const std::vector<std::string>& numberWords();

}  // namespace xopd::demokit

#pragma once
// Speech-versus-text scores and the paper's "Avg. Drop" (method.md §11):
//   drop(score) = 100 · (base_T − score) / base_T
// where base_T is the text score of the series' text-only base model (here: the teacher's text
// accuracy), and Avg. Drop is the mean of the drops over benchmarks.
//
// Threading: pure functions.

#include <optional>
#include <string>
#include <vector>

namespace xopd::eval {

/// Percentage of correct answers; throws xopd::Error when total is 0.
double accuracyPercent(int correct, int total);

/// Relative drop in percent against base_T: 100 · (base_T − score) / base_T. base_T must be > 0.
double relativeDrop(double base_t, double score);

/// Mean of relativeDrop over benchmarks; `base_t` and `scores` have the same length (>= 1).
double averageDrop(const std::vector<double>& base_t, const std::vector<double>& scores);

/// The S and T scores of one model on one benchmark (a prompt set), in percent.
struct ModalityScores {
    /// Accuracy with speech input; empty for a text-only model.
    std::optional<double> speech;
    /// Accuracy with text input; empty when not measured.
    std::optional<double> text;
    /// Number of prompts scored per modality.
    int count = 0;
};

}  // namespace xopd::eval

#pragma once
// A blind A/B or ABX listening test between two conditions, with a seeded, reproducible random
// assignment (std::mt19937 seeded with `seed`; per trial one draw picks which condition is A and,
// for ABX, one draw picks which is X). Labels stay hidden until reveal(). Loudness matching is
// playback gain only: each condition gets (quietest integrated loudness − its loudness) dB, so
// nothing is boosted into clipping and the files are untouched. Results (seed, mapping, answers,
// rater, tally, one-sided binomial p-value) are saved as JSON. Plain value; no Qt widgets.

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace xopd::widgets {

enum class AbMode { Invalid = 0, Ab, Abx };

struct AbTrial {
    int aIs = 0;      ///< condition index played as "A"
    int bIs = 1;      ///< condition index played as "B"
    int xIs = -1;     ///< ABX: condition index played as "X" (−1 for A/B)
    int answer = -1;  ///< A/B: preferred slot (0 = A, 1 = B); ABX: slot the rater says X equals
};

class AbSession {
public:
    /// `names` are the two conditions' descriptions (e.g. "teacher answer (TTS)"), `lufs` their
    /// integrated loudness (non-finite = unknown: no matching for that pair). Throws xopd::Error
    /// unless exactly two conditions and trials ≥ 1.
    AbSession(AbMode mode, QStringList names, std::vector<double> lufs, uint32_t seed, int trials);

    AbMode mode() const { return mode_; }
    uint32_t seed() const { return seed_; }
    int trialCount() const { return int(trials_.size()); }
    const AbTrial& trial(int i) const { return trials_.at(size_t(i)); }
    /// Condition index behind a slot of a trial: slot 0 = A, 1 = B, 2 = X.
    int conditionOf(int trial, int slot) const;
    /// Records an answer (slot 0 or 1). Throws xopd::Error for a bad trial or slot.
    void answer(int trial, int slot);
    int answered() const;
    /// ABX: answers where the chosen slot holds X's condition.
    int correct() const;
    /// One-sided binomial p-value P(K ≥ correct | n = answered, p = ½); 1 when nothing answered.
    double pValue() const;

    /// Playback gain (dB) of a condition when matching is on (0 when loudness is unknown).
    double matchGainDb(int condition) const;
    /// What a slot shows: "A"/"B"/"X", plus the condition name once revealed.
    QString slotLabel(int trial, int slot) const;
    bool revealed() const { return revealed_; }
    void reveal() { revealed_ = true; }
    const QStringList& names() const { return names_; }

    /// Results as JSON (format "xopd-ab-results", version 1).
    QJsonObject toJson(const QString& rater) const;
    /// Writes toJson() atomically. Throws xopd::Error naming the file.
    void save(const QString& path, const QString& rater) const;

private:
    AbMode mode_;
    QStringList names_;
    std::vector<double> lufs_;
    uint32_t seed_;
    std::vector<AbTrial> trials_;
    bool revealed_ = false;
};

/// P(K ≥ k) for K ~ Binomial(n, ½).
double binomialTailHalf(int k, int n);

}  // namespace xopd::widgets

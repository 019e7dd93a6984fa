#pragma once
// The prompt library's "Augment…" dialog: which acoustic conditions to put the chosen prompts
// under (core/data/AcousticCondition.h) — noise at one or more SNRs (white or pink), a speed
// change, a tempo change, reverberation, the telephone band, and a clean copy — the noise seed,
// and whether to augment the selected prompt or every prompt the table shows. It only collects
// the choice; PromptLibraryWidget runs the augmentation off the GUI thread. GUI thread only.

#include <QDialog>
#include <QStringList>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace xopd::widgets {

class AugmentDialog : public QDialog {
    Q_OBJECT
public:
    /// `selected` and `shown`: how many prompts each scope holds (the labels say so).
    AugmentDialog(int selected, int shown, QWidget* parent = nullptr);

    /// The condition specs ticked, e.g. {"snr=10,noise=white", "speed=1.1", "telephone"}; the OK
    /// button is enabled only when there is at least one and each parses.
    QStringList conditionSpecs() const;
    /// The noise seed.
    unsigned seed() const;
    /// True: every prompt the table shows; false: the selected one.
    bool allShown() const;
    /// Why the choice cannot run ("" when it can), shown under the options.
    QString problem() const;

private:
    void refreshProblem();

    QCheckBox* noise_;
    QLineEdit* snrs_;
    QComboBox* colour_;
    QCheckBox* speed_;
    QDoubleSpinBox* speedValue_;
    QCheckBox* tempo_;
    QDoubleSpinBox* tempoValue_;
    QCheckBox* reverb_;
    QSpinBox* reverbValue_;
    QCheckBox* telephone_;
    QCheckBox* clean_;
    QSpinBox* seed_;
    QRadioButton* selected_;
    QRadioButton* shown_;
    QLabel* problem_;
};

}  // namespace xopd::widgets

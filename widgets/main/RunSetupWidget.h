#pragma once
// The "Models and run set-up" screen: where the teacher and student come from (the demo kit,
// two Hugging Face folders with a prompt manifest, or the built-in toy models), the inspect summary
// of each folder and the pair's compatibility report (core/session/RunSetup.h, computed off the GUI
// thread), the objective (X-OPD, SFT, offline KD, GKD) with its knobs preset to
// distill::defaultDistillConfig(method), a run-size preset, and a memory / step-time estimate.
// config() is the DistillConfig a new run starts from; the launch-script box exports it as a
// torchrun or sbatch script (LaunchScriptPanel.h). GUI thread only.

#include "core/distill/DistillConfig.h"
#include "core/distill/RunEstimate.h"

#include <QWidget>

class QAction;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace xopd::widgets {

class LaunchScriptPanel;

class RunSetupWidget : public QWidget {
    Q_OBJECT
public:
    /// Where the models come from (values of the source picker).
    enum class Source { Invalid = 0, DemoKit, Folders, Toy };
    /// Run size presets.
    enum class Size { Invalid = 0, Paper, CpuDemo };

    explicit RunSetupWidget(QWidget* parent = nullptr);

    /// The demo kit folder, and whether it opened (else the reason shown on the screen).
    void setDemoKit(const QString& folder, bool ok, const QString& problem = {});
    void setSource(Source source);
    Source source() const;
    void setFolders(const QString& teacher, const QString& student, const QString& manifest = {});
    void setMethod(distill::Method method);
    distill::Method method() const;
    void setSize(Size size);
    /// Steps of the run (also set by tests for a short run).
    void setMaxSteps(int steps);

    /// The run config from the fields (not validated).
    distill::DistillConfig config() const;
    /// One line naming the models ("demo kit teacher + student", "toy models", folders).
    QString modelDescription() const;
    /// Step times a run measured (its first steps): the estimate of runs with the same models on
    /// the same device uses them instead of the rough figure (distill::calibrateStepTime).
    void setStepTimeCalibration(const distill::StepTimeCalibration& calibration);
    /// Runs inspect + compatibility in the background; reportChanged() when done.
    void inspect();
    QString reportText() const;
    QString estimateText() const;
    QList<QAction*> screenActions() const { return actions_; }
    /// The launch-script box (exports this set-up as a torchrun / sbatch script).
    LaunchScriptPanel* launchPanel() const { return launch_; }

signals:
    /// "Start run" was pressed.
    void startRequested();
    /// Source, folders or device changed (the Ask screen follows the models).
    void modelsChanged();
    void reportChanged();

private:
    void applyDefaults();
    void applySize();
    void updateEnabled();
    void updateEstimate();

    QString kitFolder_;
    bool kitOk_ = false;
    QString kitProblem_;
    int64_t studentParams_ = 0, teacherParams_ = 0;
    distill::StepTimeCalibration calibration_;

    QComboBox* source_;
    QLabel* kitLabel_;
    QLineEdit* teacher_;
    QLineEdit* student_;
    QLineEdit* manifest_;
    QWidget* folderRows_[3];
    QComboBox* method_;
    QComboBox* size_;
    QDoubleSpinBox* lambda_;
    QDoubleSpinBox* lr_;
    QSpinBox* rollouts_;
    QDoubleSpinBox* temperature_;
    QSpinBox* maxNewTokens_;
    QSpinBox* batch_;
    QSpinBox* maxSteps_;
    QSpinBox* checkpointEvery_;
    QComboBox* divergence_;
    QDoubleSpinBox* jsdBeta_;
    QDoubleSpinBox* gkdLambda_;
    QSpinBox* topk_;
    QDoubleSpinBox* clipEps_;
    QComboBox* trainable_;
    QSpinBox* loraRank_;
    QLineEdit* device_;
    QSpinBox* seed_;
    QPlainTextEdit* report_;
    QLabel* estimate_;
    QLabel* methodHelp_;
    LaunchScriptPanel* launch_;
    QList<QAction*> actions_;
    int inspectGeneration_ = 0;
};

}  // namespace xopd::widgets

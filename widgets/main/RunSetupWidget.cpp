#include "widgets/main/RunSetupWidget.h"

#include "widgets/common/KnobSpinBox.h"
#include "widgets/main/LaunchScriptPanel.h"

#include "core/common/Error.h"
#include "core/distill/RunEstimate.h"
#include "core/session/RunSetup.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <exception>

namespace xopd::widgets {

namespace {

QAction* makeAction(QWidget* parent, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    return a;
}

QDoubleSpinBox* dspin(QWidget* parent, double lo, double hi, int decimals, double step, const QString& tip) {
    auto* s = new QDoubleSpinBox(parent);
    s->setRange(lo, hi);
    s->setDecimals(decimals);
    s->setSingleStep(step);
    s->setToolTip(tip);
    return s;
}

QSpinBox* ispin(QWidget* parent, int lo, int hi, const QString& tip) {
    auto* s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setToolTip(tip);
    return s;
}

struct InspectResult {
    QString text;
    int64_t studentParams = 0, teacherParams = 0;
};

InspectResult runInspect(const QString& teacher, const QString& student) {
    InspectResult r;
    QString out;
    for (const auto& [label, folder, params] :
         {std::tuple<QString, QString, int64_t*>{"Teacher", teacher, &r.teacherParams},
          std::tuple<QString, QString, int64_t*>{"Student", student, &r.studentParams}}) {
        const auto info = session::inspectModelFolder(folder.toStdString());
        out += QString("== %1: %2\n").arg(label, folder);
        if (info.ok) {
            out += QString::fromStdString(info.summary);
            *params = info.parameters;
            if (label == "Student" && !info.has_audio)
                out += "warning: this folder has no audio tower; the student must be a speech LLM\n";
        } else {
            out += "error: " + QString::fromStdString(info.error) + "\n";
        }
        out += "\n";
    }
    out += "== Compatibility\n";
    try {
        out += QString::fromStdString(session::compatibilityReport(teacher.toStdString(), student.toStdString()));
    } catch (const std::exception& e) {
        out += "error: " + QString::fromUtf8(e.what()) + "\n";
    }
    r.text = out;
    return r;
}

const char* methodHelp(distill::Method m) {
    switch (m) {
        case distill::Method::XOpd:
            return "X-OPD: the student samples answers to the audio (and to the transcript); the teacher scores "
                   "each token; the log-ratio is the advantage of a policy-gradient step. λ weighs the text stream.";
        case distill::Method::Sft: return "SFT: cross-entropy on the prompt set's reference answers (speech stream).";
        case distill::Method::OfflineKd: return "Offline KD: cross-entropy on the teacher's own answers to the transcripts.";
        case distill::Method::Gkd:
            return "GKD: full-vocabulary divergence on a mix of student samples (probability gkd λ) and dataset answers.";
        default: return "";
    }
}

}  // namespace

RunSetupWidget::RunSetupWidget(QWidget* parent) : QWidget(parent) {
    auto* inspectAct = makeAction(this, "&Inspect models", QKeySequence(Qt::CTRL | Qt::Key_I),
                                  "Inspect the teacher and student folders and check that they can be distilled");
    auto* startAct = makeAction(this, "&New run from set-up", QKeySequence(Qt::CTRL | Qt::Key_N),
                                "Create a run folder from this set-up and start it on the live monitor");
    auto* defaultsAct = makeAction(this, "Reset &knobs to defaults", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N),
                                   "Reset the objective's knobs to the method's defaults (spec/method.md)");
    actions_ = {inspectAct, startAct, defaultsAct};
    connect(inspectAct, &QAction::triggered, this, &RunSetupWidget::inspect);
    connect(startAct, &QAction::triggered, this, &RunSetupWidget::startRequested);
    connect(defaultsAct, &QAction::triggered, this, [this] {
        applyDefaults();
        applySize();
    });

    // Models.
    auto* models = new QGroupBox("Models", this);
    source_ = new QComboBox(models);
    source_->addItem("Demo kit (tiny teacher + student + spoken prompts)", int(Source::DemoKit));
    source_->addItem("Model folders (Hugging Face layout)", int(Source::Folders));
    source_->addItem("Toy models (built in; seconds; for trying the controls)", int(Source::Toy));
    kitLabel_ = new QLabel(models);
    kitLabel_->setWordWrap(true);
    kitLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto folderRow = [this, models](QLineEdit*& edit, const QString& placeholder, bool file) {
        auto* w = new QWidget(models);
        auto* l = new QHBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        edit = new QLineEdit(w);
        edit->setPlaceholderText(placeholder);
        auto* browse = new QPushButton("Browse…", w);
        l->addWidget(edit, 1);
        l->addWidget(browse);
        QLineEdit* e = edit;
        connect(browse, &QPushButton::clicked, this, [this, e, file] {
            const QString start = e->text().isEmpty() ? QDir::homePath() : e->text();
            const QString p = file ? QFileDialog::getOpenFileName(this, "Prompt manifest", start, "JSONL manifests (*.jsonl);;All files (*)")
                                   : QFileDialog::getExistingDirectory(this, "Model folder", start);
            if (!p.isEmpty()) e->setText(p);
        });
        connect(edit, &QLineEdit::editingFinished, this, &RunSetupWidget::modelsChanged);
        return w;
    };
    folderRows_[0] = folderRow(teacher_, "teacher folder: config.json, *.safetensors, tokenizer.json", false);
    folderRows_[1] = folderRow(student_, "student folder (speech LLM)", false);
    folderRows_[2] = folderRow(manifest_, "prompt manifest (.jsonl)", true);
    auto* inspectBtn = new QToolButton(models);
    inspectBtn->setDefaultAction(inspectAct);
    inspectBtn->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* mf = new QFormLayout(models);
    mf->addRow("Source", source_);
    mf->addRow("", kitLabel_);
    mf->addRow("Teacher", folderRows_[0]);
    mf->addRow("Student", folderRows_[1]);
    mf->addRow("Prompts", folderRows_[2]);
    mf->addRow("", inspectBtn);

    report_ = new QPlainTextEdit(this);
    report_->setReadOnly(true);
    report_->setPlaceholderText("Inspect summary and compatibility report (Ctrl+I)");
    QFont mono("Monospace");
    mono.setStyleHint(QFont::TypeWriter);
    report_->setFont(mono);

    // Objective.
    auto* objective = new QGroupBox("Objective", this);
    method_ = new QComboBox(objective);
    for (auto m : {distill::Method::XOpd, distill::Method::Sft, distill::Method::OfflineKd, distill::Method::Gkd}) {
        static const char* labels[] = {"", "X-OPD (cross-modal on-policy distillation)", "SFT (reference answers)",
                                       "Offline KD (teacher's answers)", "GKD (generalised KD)"};
        method_->addItem(labels[int(m)], int(m));
    }
    methodHelp_ = new QLabel(objective);
    methodHelp_->setWordWrap(true);
    methodHelp_->setMinimumHeight(methodHelp_->fontMetrics().lineSpacing() * 3);
    methodHelp_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    size_ = new QComboBox(objective);
    size_->addItem("CPU demo (batch 8, m 2, 32 tokens, 40 steps, lr 1e-4)", int(Size::CpuDemo));
    size_->addItem("Paper (batch 256, m 4, 1024 tokens, lr 2e-6)", int(Size::Paper));
    // The hot-editable knobs come from the run's knob table (ranges, steps, help).
    lambda_ = makeKnobSpinBox(distill::knob("lambda"), objective);
    lr_ = makeKnobSpinBox(distill::knob("lr"), objective);
    rollouts_ = ispin(objective, 1, 64, "m: responses per prompt and stream");
    temperature_ = makeKnobSpinBox(distill::knob("temperature"), objective);
    maxNewTokens_ = ispin(objective, 1, 32768, "Longest response in tokens");
    batch_ = ispin(objective, 1, 65536, "Prompts per optimizer step");
    maxSteps_ = makeIntegerKnobSpinBox(distill::knob("max_steps"), objective);
    checkpointEvery_ = ispin(objective, 0, 1000000, "Checkpoint every N steps (0 = only at the end)");
    divergence_ = new QComboBox(objective);
    for (auto d : {distill::Divergence::SampledK1, distill::Divergence::ForwardKl, distill::Divergence::ReverseKl, distill::Divergence::Jsd})
        divergence_->addItem(QString::fromStdString(distill::divergenceLabel(d, 0.5)), int(d));
    jsdBeta_ = dspin(objective, 0, 1, 2, 0.05, "β of JSD(β): 0 = forward KL end, 1 = reverse KL end");
    gkdLambda_ = dspin(objective, 0, 1, 2, 0.05, "GKD: probability that a step trains on student samples (on-policy)");
    topk_ = ispin(objective, 0, 1000000, "GKD: compare on the teacher's top-k ids only (0 = full vocabulary)");
    clipEps_ = dspin(objective, 0, 0.99, 3, 0.05, "PPO clip ε on the importance ratio (0 = off, as in the paper)");
    trainable_ = new QComboBox(objective);
    trainable_->addItem("Decoder LLM (full fine-tuning)", int(distill::Trainable::Backbone));
    trainable_->addItem("LoRA adapters", int(distill::Trainable::Lora));
    loraRank_ = ispin(objective, 1, 1024, "LoRA rank");
    device_ = new QLineEdit("cpu", objective);
    device_->setToolTip("Student device: cpu, cuda or cuda:N");
    seed_ = ispin(objective, 0, 1 << 30, "Seed of data order, sampling and initialisation");
    auto* of = new QFormLayout(objective);
    of->addRow("Method", method_);
    of->addRow(methodHelp_);
    of->addRow("Run size", size_);
    of->addRow("λ (text-stream weight)", lambda_);
    of->addRow("Learning rate", lr_);
    of->addRow("Rollouts per prompt (m)", rollouts_);
    of->addRow("Temperature", temperature_);
    of->addRow("Max new tokens", maxNewTokens_);
    of->addRow("Batch (prompts)", batch_);
    of->addRow("Max steps", maxSteps_);
    of->addRow("Checkpoint every", checkpointEvery_);
    of->addRow("Divergence", divergence_);
    of->addRow("JSD β", jsdBeta_);
    of->addRow("GKD on-policy share", gkdLambda_);
    of->addRow("Top-k (GKD)", topk_);
    of->addRow("Clip ε", clipEps_);
    of->addRow("Trains", trainable_);
    of->addRow("LoRA rank", loraRank_);
    of->addRow("Device", device_);
    of->addRow("Seed", seed_);

    estimate_ = new QLabel(this);
    estimate_->setWordWrap(true);
    estimate_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* estimateBox = new QGroupBox("Estimate", this);
    auto* el = new QVBoxLayout(estimateBox);
    el->addWidget(estimate_);
    auto* startBtn = new QPushButton("Start run", this);
    startBtn->setToolTip(startAct->toolTip());
    connect(startBtn, &QPushButton::clicked, startAct, &QAction::trigger);

    launch_ = new LaunchScriptPanel([this] { return config(); }, this);

    auto* left = new QVBoxLayout;
    left->addWidget(models);
    left->addWidget(report_, 1);
    left->addWidget(launch_);
    auto* right = new QVBoxLayout;
    right->addWidget(objective);
    right->addWidget(estimateBox);
    right->addWidget(startBtn);
    right->addStretch(1);
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(left, 3);
    layout->addLayout(right, 2);

    connect(source_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
        // The run size follows the models (the toy models train with other sizes), but the number
        // of steps is the user's: a new Source never changes it behind their back.
        const int steps = maxSteps_->value();
        applySize();
        maxSteps_->setValue(steps);
        updateEnabled();
        updateEstimate();
        emit modelsChanged();
    });
    connect(method_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
        applyDefaults();
        applySize();
    });
    connect(size_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &RunSetupWidget::applySize);
    for (auto* s : {lambda_, lr_, temperature_, jsdBeta_, gkdLambda_, clipEps_})
        connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this, &RunSetupWidget::updateEstimate);
    for (auto* s : {rollouts_, maxNewTokens_, batch_, maxSteps_, loraRank_, topk_})
        connect(s, QOverload<int>::of(&QSpinBox::valueChanged), this, &RunSetupWidget::updateEstimate);
    connect(trainable_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
        updateEnabled();
        updateEstimate();
    });
    connect(device_, &QLineEdit::editingFinished, this, [this] {
        updateEstimate();
        emit modelsChanged();
    });

    setDemoKit({}, false, "no demo kit opened");
    applyDefaults();
    applySize();
    updateEnabled();
}

void RunSetupWidget::setDemoKit(const QString& folder, bool ok, const QString& problem) {
    kitFolder_ = folder;
    kitOk_ = ok;
    kitProblem_ = problem;
    kitLabel_->setText(ok ? QString("Demo kit: %1").arg(folder)
                          : QString("<span style='color:#c62828'>Demo kit not available: %1<br>Build it with "
                                    "<code>xopd demo-kit build</code> (a few minutes on a CPU), then restart.</span>")
                                .arg(problem.toHtmlEscaped()));
    kitLabel_->setTextFormat(Qt::RichText);
    if (ok) {
        teacher_->setText(QDir(folder).filePath("teacher"));
        student_->setText(QDir(folder).filePath("student"));
        manifest_->setText(QDir(folder).filePath("prompts/train.jsonl"));
    }
    updateEnabled();
    emit modelsChanged();
}

void RunSetupWidget::setSource(Source s) { source_->setCurrentIndex(source_->findData(int(s))); }
RunSetupWidget::Source RunSetupWidget::source() const { return Source(source_->currentData().toInt()); }

void RunSetupWidget::setFolders(const QString& teacher, const QString& student, const QString& manifest) {
    teacher_->setText(teacher);
    student_->setText(student);
    manifest_->setText(manifest);
    emit modelsChanged();
}

void RunSetupWidget::setMethod(distill::Method m) { method_->setCurrentIndex(method_->findData(int(m))); }
distill::Method RunSetupWidget::method() const { return distill::Method(method_->currentData().toInt()); }
void RunSetupWidget::setSize(Size s) { size_->setCurrentIndex(size_->findData(int(s))); }
void RunSetupWidget::setMaxSteps(int steps) { maxSteps_->setValue(steps); }

void RunSetupWidget::applyDefaults() {
    const auto c = distill::defaultDistillConfig(method());
    methodHelp_->setText(methodHelp(method()));
    lambda_->setValue(c.loss.lambda);
    lr_->setValue(c.train.lr);
    rollouts_->setValue(int(c.rollout.rollouts_per_prompt));
    temperature_->setValue(c.rollout.temperature);
    maxNewTokens_->setValue(int(c.rollout.max_new_tokens));
    batch_->setValue(int(c.train.batch_size));
    maxSteps_->setValue(int(c.train.max_steps));
    checkpointEvery_->setValue(int(c.train.checkpoint_every));
    divergence_->setCurrentIndex(divergence_->findData(int(c.loss.divergence)));
    jsdBeta_->setValue(c.loss.jsd_beta);
    gkdLambda_->setValue(c.loss.gkd_lambda);
    topk_->setValue(int(c.loss.topk));
    clipEps_->setValue(c.loss.clip_eps);
    trainable_->setCurrentIndex(trainable_->findData(int(c.train.trainable)));
    loraRank_->setValue(int(c.train.lora_rank));
    seed_->setValue(int(c.train.seed));
    updateEnabled();
    updateEstimate();
}

void RunSetupWidget::applySize() {
    const auto c = distill::defaultDistillConfig(method());
    const bool toy = source() == Source::Toy;
    if (toy) {
        // As `xopd distill --toy`: seconds on a CPU.
        rollouts_->setValue(2);
        maxNewTokens_->setValue(24);
        batch_->setValue(4);
        lr_->setValue(1e-2);
        maxSteps_->setValue(40);
        checkpointEvery_->setValue(10);
    } else if (Size(size_->currentData().toInt()) == Size::CpuDemo) {
        rollouts_->setValue(2);
        maxNewTokens_->setValue(32);
        batch_->setValue(8);
        lr_->setValue(1e-4);
        maxSteps_->setValue(40);
        checkpointEvery_->setValue(10);
    } else {
        rollouts_->setValue(int(c.rollout.rollouts_per_prompt));
        maxNewTokens_->setValue(int(c.rollout.max_new_tokens));
        batch_->setValue(int(c.train.batch_size));
        lr_->setValue(c.train.lr);
        maxSteps_->setValue(int(c.train.max_steps));
        checkpointEvery_->setValue(int(c.train.checkpoint_every));
    }
    updateEstimate();
}

void RunSetupWidget::updateEnabled() {
    const Source s = source();
    for (auto* w : folderRows_) w->setEnabled(s == Source::Folders);
    kitLabel_->setVisible(s == Source::DemoKit);
    const bool gkd = method() == distill::Method::Gkd;
    divergence_->setEnabled(gkd);
    jsdBeta_->setEnabled(gkd);
    gkdLambda_->setEnabled(gkd);
    topk_->setEnabled(gkd);
    loraRank_->setEnabled(distill::Trainable(trainable_->currentData().toInt()) == distill::Trainable::Lora);
}

distill::DistillConfig RunSetupWidget::config() const {
    distill::DistillConfig c = distill::defaultDistillConfig(method());
    switch (source()) {
        case Source::Toy:
            c.student.kind = c.teacher.kind = distill::ModelSourceKind::Toy;
            c.data.toy_prompts = 32;
            break;
        case Source::DemoKit:
            c.student.kind = c.teacher.kind = distill::ModelSourceKind::Demo;
            c.student.path = c.teacher.path = kitFolder_.toStdString();
            break;
        case Source::Folders:
        default:
            c.student.kind = c.teacher.kind = distill::ModelSourceKind::Hf;
            c.student.path = student_->text().trimmed().toStdString();
            c.teacher.path = teacher_->text().trimmed().toStdString();
            c.data.manifest = manifest_->text().trimmed().toStdString();
            break;
    }
    c.loss.lambda = lambda_->value();
    c.train.lr = lr_->value();
    c.rollout.rollouts_per_prompt = rollouts_->value();
    c.rollout.temperature = temperature_->value();
    c.rollout.max_new_tokens = maxNewTokens_->value();
    c.train.batch_size = batch_->value();
    c.train.max_steps = maxSteps_->value();
    c.train.checkpoint_every = checkpointEvery_->value();
    c.loss.divergence = distill::Divergence(divergence_->currentData().toInt());
    c.loss.jsd_beta = jsdBeta_->value();
    c.loss.gkd_lambda = gkdLambda_->value();
    c.loss.topk = topk_->value();
    c.loss.clip_eps = clipEps_->value();
    c.train.trainable = distill::Trainable(trainable_->currentData().toInt());
    c.train.lora_rank = loraRank_->value();
    c.train.device = device_->text().trimmed().toStdString();
    c.train.seed = uint64_t(seed_->value());
    return c;
}

QString RunSetupWidget::modelDescription() const {
    switch (source()) {
        case Source::Toy: return "toy teacher + toy student (built in)";
        case Source::DemoKit: return kitOk_ ? QString("demo kit %1").arg(kitFolder_) : QString("demo kit (missing)");
        default: return QString("teacher %1, student %2").arg(teacher_->text(), student_->text());
    }
}

void RunSetupWidget::inspect() {
    if (source() == Source::Toy) {
        report_->setPlainText("Toy models are built in: no folders to inspect.\n"
                              "Teacher and student share a 32-id vocabulary; id 31 is a modality-specific special id "
                              "(masked, never sampled).");
        studentParams_ = teacherParams_ = 0;
        updateEstimate();
        emit reportChanged();
        return;
    }
    if (source() == Source::DemoKit && !kitOk_) {
        report_->setPlainText("The demo kit is not available: " + kitProblem_ + "\nBuild it with: xopd demo-kit build");
        emit reportChanged();
        return;
    }
    const QString teacher = teacher_->text().trimmed(), student = student_->text().trimmed();
    if (teacher.isEmpty() || student.isEmpty()) {
        report_->setPlainText("Pick a teacher folder and a student folder first.");
        emit reportChanged();
        return;
    }
    report_->setPlainText(QString("Inspecting %1 and %2 …").arg(teacher, student));
    const int generation = ++inspectGeneration_;
    auto* watcher = new QFutureWatcher<InspectResult>(this);
    connect(watcher, &QFutureWatcher<InspectResult>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != inspectGeneration_) return;  // a newer request superseded it
        const InspectResult r = watcher->result();
        report_->setPlainText(r.text);
        studentParams_ = r.studentParams;
        teacherParams_ = r.teacherParams;
        updateEstimate();
        emit reportChanged();
    });
    watcher->setFuture(QtConcurrent::run(runInspect, teacher, student));
}

void RunSetupWidget::setStepTimeCalibration(const distill::StepTimeCalibration& calibration) {
    calibration_ = calibration;
    updateEstimate();
}

QString RunSetupWidget::reportText() const { return report_->toPlainText(); }
QString RunSetupWidget::estimateText() const { return estimate_->text(); }

void RunSetupWidget::updateEstimate() {
    distill::RunModelShapes shapes;
    try {
        shapes = distill::modelShapesOf(config());  // small JSON files; a bad one leaves the rough estimate
    } catch (const Error&) {
    }
    const auto e = distill::estimateRun(config(), studentParams_, teacherParams_, shapes, calibration_);
    QString text = QString::fromStdString(e.text).trimmed();
    if (studentParams_ == 0 && source() != Source::Toy)
        text += "\n(inspect the models for sizes: Ctrl+I; a run's first steps calibrate the step time)";
    estimate_->setText(text);
}

}  // namespace xopd::widgets

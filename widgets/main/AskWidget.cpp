#include "widgets/main/AskWidget.h"

#include "core/audio/AudioFile.h"
#include "widgets/audio/PushToTalkPanel.h"
#include "widgets/main/AskWorker.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <exception>
#include <utility>

namespace xopd::widgets {

namespace {
QAction* makeAction(QWidget* parent, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    return a;
}
QString answerHtml(const QString& title, const QString& answer, const QString& note) {
    QString body = answer.isEmpty() ? "<i>(empty answer)</i>" : answer.toHtmlEscaped().replace("\n", "<br>");
    return QString("<h3 style='margin:0'>%1</h3><p style='font-size:large'>%2</p><p style='color:gray'>%3</p>")
        .arg(title.toHtmlEscaped(), body, note);
}
QString fmt(double v) { return std::isfinite(v) ? QString::number(v, 'f', 3) : QString("n/a"); }
/// Push-to-talk's key: held to record, released to ask.
constexpr Qt::Key kTalkKey = Qt::Key_F4;
}  // namespace

AskWidget::AskWidget(PromptLibraryModel* library, QWidget* parent)
    : QWidget(parent), library_(library), tokens_(new TokenStore(this)), thread_(new QThread(this)), worker_(new AskWorker) {
    thread_->setObjectName("ask-worker");
    worker_->moveToThread(thread_);
    connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_->start();
    connect(worker_, &AskWorker::loaded, this, &AskWidget::onLoaded);
    connect(worker_, &AskWorker::answered, this, &AskWidget::onAnswered);
    connect(worker_, &AskWorker::failed, this, &AskWidget::onFailed);
    connect(worker_, &AskWorker::partial, this, &AskWidget::onPartial);
    streamPaint_ = new QTimer(this);
    streamPaint_->setSingleShot(true);
    streamPaint_->setInterval(50);  // tokens come faster than a panel needs repainting
    connect(streamPaint_, &QTimer::timeout, this, &AskWidget::showStreamed);
    recordingFolder_ = QDir(QDir::tempPath()).filePath("xopd-push-to-talk");

    ask_ = makeAction(this, "&Ask both models", QKeySequence(Qt::CTRL | Qt::Key_J),
                      "Ask: the student hears the audio, the teacher reads the transcript");
    record_ = makeAction(this, "Record a &question", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_J),
                         "Record a spoken question into the prompt library (press again to stop), then ask it");
    listen_ = makeAction(this, "Send answers to A/B &listening", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_J),
                         "Render both answers with text-to-speech and add them to the A/B listening screen");
    talk_ = makeAction(this, "&Push to talk (hold)", QKeySequence(kTalkKey),
                       "Hold to record a question, release to ask it (silence trimmed; answers stream in)");
    talk_->setAutoRepeat(false);
    addAction(talk_);  // also live when the screen is used on its own, outside the main window
    actions_ = {ask_, record_, listen_, talk_};
    connect(talk_, &QAction::triggered, this, [this] {
        if (busy_) {
            emit statusMessage("Push to talk: still working on the previous question");
            return;
        }
        if (ptt_->press()) emit statusMessage("Recording… release F4 to ask");
    });
    // The key's release reaches whichever widget has the focus: watch for it application-wide.
    qApp->installEventFilter(this);
    connect(ask_, &QAction::triggered, this, [this] { ask(); });
    connect(record_, &QAction::triggered, this, &AskWidget::recordRequested);
    connect(listen_, &QAction::triggered, this, [this] {
        if (last_.student_answer.empty() && last_.teacher_answer.empty()) {
            emit statusMessage("Ask first: there are no answers to listen to");
            return;
        }
        emit answersForListening(QString::fromStdString(last_.student_answer), QString::fromStdString(last_.teacher_answer));
    });

    // Question.
    auto* question = new QGroupBox("Question", this);
    prompt_ = new QComboBox(question);
    prompt_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    prompt_->setMinimumContentsLength(30);
    transcript_ = new QLineEdit(question);
    transcript_->setPlaceholderText("Transcript the teacher reads (type or edit)");
    audio_ = new QLabel("–", question);
    audio_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    models_ = new QLabel("No models chosen", question);
    models_->setWordWrap(true);
    studentPick_ = new QComboBox(question);
    studentPick_->addItem("Base student (Models and run set-up)");
    studentPick_->setToolTip("Answer with the set-up screen's student, or with a run's latest checkpoint");
    maxTokens_ = new QSpinBox(question);
    maxTokens_->setRange(1, 4096);
    maxTokens_->setValue(48);
    temperature_ = new QDoubleSpinBox(question);
    temperature_->setRange(0.01, 5);
    temperature_->setDecimals(2);
    temperature_->setSingleStep(0.05);
    temperature_->setValue(0.05);
    seed_ = new QSpinBox(question);
    seed_->setRange(0, 1 << 30);
    askButton_ = new QPushButton("Ask", question);
    askButton_->setDefault(true);
    connect(askButton_, &QPushButton::clicked, ask_, &QAction::trigger);
    auto* recordButton = new QToolButton(question);
    recordButton->setDefaultAction(record_);
    auto* listenButton = new QToolButton(question);
    listenButton->setDefaultAction(listen_);
    state_ = new QLabel(question);
    ptt_ = new PushToTalkPanel(question);
    ptt_->button()->setText("Hold to talk (F4)");
    connect(ptt_, &PushToTalkPanel::failed, this, [this](const QString& m) {
        state_->setText(QString("<span style='color:#c62828'>%1</span>").arg(m.toHtmlEscaped()));
        emit statusMessage(m);
    });
    connect(ptt_, &PushToTalkPanel::recorded, this,
            [this](const audio::AudioClip& clip, const audio::SpeechBounds&, double seconds) {
                askRecording(clip, seconds - clip.durationSeconds());
            });
    auto* knobs = new QHBoxLayout;
    knobs->addWidget(new QLabel("Max tokens", question));
    knobs->addWidget(maxTokens_);
    knobs->addWidget(new QLabel("Temperature", question));
    knobs->addWidget(temperature_);
    knobs->addWidget(new QLabel("Seed", question));
    knobs->addWidget(seed_);
    knobs->addStretch(1);
    knobs->addWidget(recordButton);
    knobs->addWidget(listenButton);
    knobs->addWidget(askButton_);
    auto* form = new QFormLayout(question);
    form->addRow("Prompt", prompt_);
    form->addRow("Transcript", transcript_);
    form->addRow("Audio", audio_);
    form->addRow("Talk", ptt_);
    form->addRow("Student", studentPick_);
    form->addRow("Models", models_);
    form->addRow(knobs);
    form->addRow(state_);

    // Answers side by side.
    student_ = new QTextBrowser(this);
    teacher_ = new QTextBrowser(this);
    student_->setHtml(answerHtml("Student · hears the audio", "", "Ask to see the student's answer to the spoken question."));
    teacher_->setHtml(answerHtml("Teacher · reads the transcript", "", "Ask to see the teacher's answer to the transcript."));
    auto* answers = new QSplitter(Qt::Horizontal, this);
    answers->addWidget(student_);
    answers->addWidget(teacher_);

    view_ = new TokenView(tokens_, this);
    view_->setDecoder([this](int32_t id) { return tokens_->tokenText(id); });
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(answers);
    split->addWidget(view_);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(question);
    layout->addWidget(split, 1);

    connect(prompt_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &AskWidget::showChoice);
    connect(studentPick_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this](int) {
        if (!configured_) return;
        configureWorker();
        if (isVisible()) loadModels();
    });
    if (library_) {
        // Library changes come in bursts (a manifest import adds hundreds of rows): rebuild the
        // picker once per burst, from the event loop.
        connect(library_, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex&, int, int last) {
            const auto& e = library_->entry(last);
            if (e.source == "recorded") pendingSelect_ = "library:" + e.id;  // a new recording: offer it at once
            scheduleRebuild();
        });
        connect(library_, &QAbstractItemModel::dataChanged, this, &AskWidget::libraryEdited);
        connect(library_, &QAbstractItemModel::rowsRemoved, this, &AskWidget::scheduleRebuild);
        connect(library_, &QAbstractItemModel::modelReset, this, &AskWidget::scheduleRebuild);
    }
    rebuildChoices();
    setBusy(false);
}

AskWidget::~AskWidget() {
    qApp->removeEventFilter(this);
    thread_->quit();
    thread_->wait();
}

void AskWidget::setModelConfig(const distill::DistillConfig& config, const QString& description) {
    configured_ = true;
    baseConfig_ = config;
    baseDescription_ = description;
    configureWorker();
}

void AskWidget::configureWorker() {
    // A load still running is for the previous choice: its result is dropped and the new choice
    // loads after it (the worker runs commands in order).
    if (loading_) staleLoad_ = true;
    loaded_ = false;
    modelPrompts_.clear();
    rebuildChoices();
    const int pick = studentPick_->currentIndex();
    if (pick <= 0 || pick > checkpoints_.size()) {
        models_->setText(baseDescription_ + " (not loaded yet)");
        QMetaObject::invokeMethod(worker_, [w = worker_, c = baseConfig_] { w->configure(c); }, Qt::QueuedConnection);
        return;
    }
    const AskCheckpoint ck = checkpoints_[pick - 1];
    models_->setText(QString("student: checkpoint %1 (not loaded yet)").arg(ck.checkpointDir));
    // The run's folder is read on the worker thread, like the models.
    QMetaObject::invokeMethod(worker_, [w = worker_, ck, c = baseConfig_] { w->configureCheckpoint(ck.runDir, ck.checkpointDir, c); },
                              Qt::QueuedConnection);
}

void AskWidget::setRunCheckpoints(const QList<AskCheckpoint>& checkpoints) {
    const int pick = studentPick_->currentIndex();
    const QString chosen = pick >= 1 && pick <= checkpoints_.size() ? checkpoints_[pick - 1].checkpointDir : QString();
    checkpoints_ = checkpoints;
    int keep = 0;
    {
        const QSignalBlocker block(studentPick_);
        while (studentPick_->count() > 1) studentPick_->removeItem(1);
        for (int i = 0; i < checkpoints_.size(); ++i) {
            studentPick_->addItem(checkpoints_[i].label, checkpoints_[i].checkpointDir);
            if (checkpoints_[i].checkpointDir == chosen) keep = i + 1;
        }
        studentPick_->setCurrentIndex(keep);
    }
    // The chosen checkpoint went away (or moved): fall back to the base student.
    if (!chosen.isEmpty() && keep == 0 && configured_) configureWorker();
}

int AskWidget::studentChoiceCount() const { return studentPick_->count(); }
int AskWidget::studentChoice() const { return studentPick_->currentIndex(); }
void AskWidget::chooseStudent(int index) { studentPick_->setCurrentIndex(index); }
QString AskWidget::studentChoiceText(int index) const { return studentPick_->itemText(index); }

void AskWidget::loadModels() {
    if (!configured_ || loaded_ || loading_) return;
    loading_ = true;
    setBusy(true, "Loading the models…");
    QMetaObject::invokeMethod(worker_, [w = worker_] { w->load(); }, Qt::QueuedConnection);
}

void AskWidget::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    loadModels();
}

bool AskWidget::ask() {
    data::PromptItem prompt;
    const int i = prompt_->currentIndex();
    if (i >= 0 && size_t(i) < choices_.size()) prompt = choices_[size_t(i)].prompt;
    return askPrompt(prompt);
}

bool AskWidget::askPrompt(const data::PromptItem& prompt) {
    if (busy_) {
        emit statusMessage("Ask: still working on the previous question");
        return false;
    }
    if (!configured_) {
        emit statusMessage("Ask: choose models on the Models and run set-up screen first");
        return false;
    }
    session::AskRequest q;
    q.prompt = prompt;
    q.prompt.transcript = transcript_->text().trimmed().toStdString();
    if (q.prompt.transcript.empty()) {
        emit statusMessage("Ask: type the transcript the teacher should read");
        state_->setText("<span style='color:#c62828'>The transcript is empty: type what the question says.</span>");
        return false;
    }
    q.max_new_tokens = maxTokens_->value();
    q.temperature = temperature_->value();
    q.seed = uint64_t(seed_->value());
    for (auto& s : streamed_) s.clear();
    setBusy(true, "Asking both models…");
    QMetaObject::invokeMethod(worker_, [w = worker_, q] { w->ask(q); }, Qt::QueuedConnection);
    return true;
}

int AskWidget::promptCount() const { return int(choices_.size()); }
void AskWidget::choosePrompt(int index) { prompt_->setCurrentIndex(index); }
void AskWidget::setTranscript(const QString& text) { transcript_->setText(text); }
QString AskWidget::transcript() const { return transcript_->text(); }

void AskWidget::scheduleRebuild() {
    if (rebuildPending_) return;
    rebuildPending_ = true;
    QTimer::singleShot(0, this, [this] {
        rebuildPending_ = false;
        rebuildChoices();
    });
}

void AskWidget::showChoice(int i) {
    if (i < 0 || size_t(i) >= choices_.size()) return;
    const auto& p = choices_[size_t(i)].prompt;
    transcript_->setText(QString::fromStdString(p.transcript));
    audio_->setText(p.audio_path.empty() ? QString("(toy models: speech synthesised from the transcript)")
                                         : QString::fromStdString(p.audio_path));
}

void AskWidget::rebuildChoices() {
    const QString current = chosenPromptKey();
    choices_.clear();
    for (const auto& p : modelPrompts_)
        choices_.push_back({"model:" + QString::fromStdString(p.id),
                            QString("model set · %1 · %2").arg(QString::fromStdString(p.id), QString::fromStdString(p.transcript)), p});
    if (library_)
        for (const auto& e : library_->entries()) {
            data::PromptItem p;
            p.id = e.id.toStdString();
            p.transcript = e.transcript.toStdString();
            p.audio_path = e.path.toStdString();
            choices_.push_back({"library:" + e.id,
                                QString("library · %1 · %2").arg(e.id, e.transcript.isEmpty() ? QString("(no transcript)") : e.transcript), p});
        }
    const QString want = pendingSelect_.isEmpty() ? current : std::exchange(pendingSelect_, QString());
    int keep = -1;
    for (size_t i = 0; i < choices_.size() && keep < 0; ++i)
        if (choices_[i].key == want) keep = int(i);
    {
        const QSignalBlocker block(prompt_);
        prompt_->clear();
        for (const auto& c : choices_) prompt_->addItem(c.label, c.key);
        prompt_->setCurrentIndex(keep >= 0 ? keep : (choices_.empty() ? -1 : 0));
    }
    // The same prompt still chosen keeps what was typed; another one shows its own transcript and audio.
    if (prompt_->currentIndex() >= 0 && (keep < 0 || want != current)) showChoice(prompt_->currentIndex());
}

void AskWidget::libraryEdited(const QModelIndex& topLeft, const QModelIndex& bottomRight) {
    for (int row = topLeft.row(); row <= bottomRight.row(); ++row) {
        const auto& e = library_->entry(row);
        const QString key = "library:" + e.id;
        for (size_t i = 0; i < choices_.size(); ++i) {
            Choice& c = choices_[i];
            if (c.key != key) continue;
            const QString before = QString::fromStdString(c.prompt.transcript);
            c.prompt.transcript = e.transcript.toStdString();
            c.label = QString("library · %1 · %2").arg(e.id, e.transcript.isEmpty() ? QString("(no transcript)") : e.transcript);
            prompt_->setItemText(int(i), c.label);
            // The field follows the library unless something else was typed into it.
            if (prompt_->currentIndex() == int(i) && transcript_->text().trimmed() == before.trimmed())
                transcript_->setText(e.transcript);
        }
    }
}

bool AskWidget::chooseLibraryPrompt(const QString& id) {
    if (rebuildPending_) {
        rebuildPending_ = false;
        rebuildChoices();
    }
    const int i = prompt_->findData("library:" + id);
    if (i < 0) return false;
    if (i == prompt_->currentIndex()) showChoice(i);
    else prompt_->setCurrentIndex(i);
    return true;
}

QString AskWidget::chosenPromptKey() const {
    const int i = prompt_->currentIndex();
    return i >= 0 && size_t(i) < choices_.size() ? choices_[size_t(i)].key : QString();
}

QString AskWidget::audioText() const { return audio_->text(); }
QString AskWidget::chosenPromptLabel() const { return prompt_->currentText(); }

void AskWidget::onLoaded(const QString& description, const std::vector<data::PromptItem>& prompts) {
    if (std::exchange(staleLoad_, false)) {
        loading_ = false;
        loadModels();
        return;
    }
    loading_ = false;
    loaded_ = true;
    modelPrompts_ = prompts;
    models_->setText(description);
    rebuildChoices();
    if (!busy_ || state_->text().startsWith("Loading")) setBusy(false, "Models loaded.");
    emit modelsLoaded(description);
}

QString AskWidget::streamedAnswer(int part) const { return part >= 1 && part <= 3 ? streamed_[part] : QString(); }

void AskWidget::onPartial(int part, const QString& text) {
    if (part < 1 || part > 3 || !busy_) return;
    streamed_[part] = text;
    if (!streamPaint_->isActive()) streamPaint_->start();
    emit answerStreamed(part, text);
}

void AskWidget::showStreamed() {
    if (!busy_) return;  // the final answers are in
    const QString cursor = QString::fromUtf8("▍");
    const QString& s = streamed_[int(session::AskPart::StudentSpeech)];
    const QString& t = streamed_[int(session::AskPart::Teacher)];
    student_->setHtml(answerHtml("Student · hears the audio", s + cursor, "generating…"));
    teacher_->setHtml(answerHtml("Teacher · reads the transcript", t.isEmpty() ? QString() : t + cursor,
                                 t.isEmpty() ? "answers after the student" : "generating…"));
}

bool AskWidget::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::KeyRelease && ptt_->isRecording()) {
        const auto* k = static_cast<QKeyEvent*>(event);
        if (k->key() == kTalkKey && !k->isAutoRepeat()) {
            ptt_->release();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void AskWidget::askRecording(const audio::AudioClip& clip, double cutSeconds) {
    if (clip.empty()) {
        emit statusMessage("Push to talk: nothing was recorded");
        return;
    }
    const QString transcript = transcript_->text().trimmed();
    const QString name = "talk-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
    data::PromptItem p;
    p.transcript = transcript.toStdString();
    try {
        if (library_) {
            // The library writes it and offers it (the picker selects a new recording); ask it at once.
            const int row = library_->addClip(clip, recordingFolder_, name, "recorded", transcript);
            p.id = library_->entry(row).id.toStdString();
            p.audio_path = library_->entry(row).path.toStdString();
        } else {
            QDir().mkpath(recordingFolder_);
            p.id = name.toStdString();
            p.audio_path = QDir(recordingFolder_).absoluteFilePath(name + ".wav").toStdString();
            audio::writeAudioFile(p.audio_path, clip, audio::AudioFileFormat::WavPcm16);
        }
    } catch (const std::exception& e) {
        onFailed(QString("push to talk: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    audio_->setText(QString::fromStdString(p.audio_path));
    emit statusMessage(QString("Recorded %1 s (%2 s of silence trimmed)").arg(clip.durationSeconds(), 0, 'f', 2).arg(cutSeconds, 0, 'f', 2));
    askPrompt(p);
}

void AskWidget::onAnswered(const session::AskAnswer& a) {
    streamPaint_->stop();
    last_ = a;
    ++asks_;
    session::AskAnswer copy = a;
    copy.speech.step = copy.text.step = asks_;
    if (!copy.speech.tokens.empty()) tokens_->add(copy.speech);
    if (!copy.text.tokens.empty()) tokens_->add(copy.text);
    student_->setHtml(answerHtml("Student · hears the audio", QString::fromStdString(a.student_answer),
                                 QString("mean A<sub>cm</sub> = %1 over %2 tokens · the student reading the transcript says: “%3” "
                                         "(mean A<sub>im</sub> = %4)")
                                     .arg(fmt(a.speech_mean_advantage))
                                     .arg(a.speech.tokens.size())
                                     .arg(QString::fromStdString(a.student_text_answer).toHtmlEscaped())
                                     .arg(fmt(a.text_mean_advantage))));
    teacher_->setHtml(answerHtml("Teacher · reads the transcript", QString::fromStdString(a.teacher_answer),
                                 "Below: each student token coloured by log p<sub>teacher</sub> − log p<sub>student</sub>."));
    view_->showStep(asks_);
    setBusy(false, QString("Answered in %1 s (ask %2).").arg(a.seconds, 0, 'f', 2).arg(asks_));
    emit answered();
}

void AskWidget::onFailed(const QString& message) {
    if (loading_ && std::exchange(staleLoad_, false)) {
        loading_ = false;
        loadModels();
        return;
    }
    loading_ = false;
    setBusy(false);
    state_->setText(QString("<span style='color:#c62828'>%1</span>").arg(message.toHtmlEscaped()));
    emit failed(message);
    emit statusMessage("Ask failed: " + message);
}

void AskWidget::setBusy(bool busy, const QString& why) {
    busy_ = busy;
    askButton_->setEnabled(!busy);
    ask_->setEnabled(!busy);
    if (!why.isEmpty()) state_->setText(why);
}

}  // namespace xopd::widgets

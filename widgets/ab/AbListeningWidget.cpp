#include "widgets/ab/AbListeningWidget.h"

#include "core/audio/Loudness.h"
#include "widgets/audio/AudioTransport.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/common/ElidedButton.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

namespace {
QAction* key(QWidget* parent, const QString& text, const QKeySequence& k, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(k);
    a->setStatusTip(tip);
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    parent->addAction(a);
    return a;
}
}  // namespace

AbListeningWidget::AbListeningWidget(QWidget* parent) : QWidget(parent), transport_(new AudioTransport(this)) {
    first_ = new QComboBox(this);
    second_ = new QComboBox(this);
    for (QComboBox* c : {first_, second_}) {  // long condition names elide instead of widening the window
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(24);
    }
    mode_ = new QComboBox(this);
    mode_->addItem("ABX (is X A or B?)", int(AbMode::Abx));
    mode_->addItem("Blind A/B preference", int(AbMode::Ab));
    seed_ = new QSpinBox(this);
    seed_->setRange(0, 2147483647);
    seed_->setValue(1234);
    seed_->setToolTip("Seed of the random A/B/X assignment; the seed of the running test is shown here");
    newSeed_ = new QCheckBox("New seed each test", this);
    newSeed_->setChecked(true);
    newSeed_->setToolTip("Start draws a fresh seed (shown in the Seed box); untick to rerun the seed in the box");
    trials_ = new QSpinBox(this);
    trials_->setRange(1, 1000);
    trials_->setValue(10);
    match_ = new QCheckBox("Match loudness (BS.1770, playback gain only)", this);
    match_->setChecked(true);
    debugLabels_ = new QCheckBox("Show labels (debug: never during a real test)", this);
    requirePlayback_ = new QCheckBox("Answer only after every clip was played", this);
    requirePlayback_->setToolTip("As webMUSHRA: the answer buttons wait until each slot of the trial was played "
                                 "(in ABX, X must always be played first)");
    rater_ = new QLineEdit(this);
    rater_->setPlaceholderText("rater name");
    auto* startBtn = new QPushButton("Start test", this);
    auto* revealBtn = new QPushButton("Reveal", this);
    auto* saveBtn = new QPushButton("Save results…", this);

    auto* setup = new QGroupBox("Conditions", this);
    auto* form = new QFormLayout(setup);
    form->addRow("Condition 1", first_);
    form->addRow("Condition 2", second_);
    form->addRow("Mode", mode_);
    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(seed_, 1);
    seedRow->addWidget(newSeed_);
    form->addRow("Seed", seedRow);
    form->addRow("Trials", trials_);
    form->addRow("Rater", rater_);
    form->addRow(match_);
    form->addRow(debugLabels_);
    form->addRow(requirePlayback_);
    auto* setupButtons = new QHBoxLayout;
    setupButtons->addWidget(startBtn);
    setupButtons->addWidget(revealBtn);
    setupButtons->addWidget(saveBtn);
    form->addRow(setupButtons);

    auto* test = new QGroupBox("Listen", this);
    trialLabel_ = new QLabel("No test running", test);
    QFont big = font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    auto* slotRow = new QHBoxLayout;
    for (int i = 0; i < 3; ++i) {
        slotButtons_[i] = new ElidedButton(test);  // revealed names are long: elided, never wider
        slotButtons_[i]->setCheckable(true);
        slotButtons_[i]->setFont(big);
        slotButtons_[i]->setMinimumHeight(60);
        slotRow->addWidget(slotButtons_[i]);
        connect(slotButtons_[i], &QPushButton::clicked, this, [this, i] { selectSlot(i); });
    }
    auto* answers = new QHBoxLayout;
    for (int i = 0; i < 2; ++i) {
        answerButtons_[i] = new QPushButton(test);
        answers->addWidget(answerButtons_[i]);
        connect(answerButtons_[i], &QPushButton::clicked, this, [this, i] { answer(i); });
    }
    tally_ = new QLabel(test);
    gain_ = new QLabel(test);
    loopLabel_ = new QLabel("Loop off", test);
    for (QLabel* l : {trialLabel_, tally_, gain_}) l->setWordWrap(true);  // long lines wrap, never widen the window
    waveform_ = new WaveformView(test);
    auto* tl = new QVBoxLayout(test);
    tl->addWidget(trialLabel_);
    tl->addLayout(slotRow);
    tl->addLayout(answers);
    tl->addWidget(waveform_, 1);
    auto* info = new QHBoxLayout;
    info->addWidget(gain_);
    info->addStretch(1);
    info->addWidget(loopLabel_);
    tl->addLayout(info);
    tl->addWidget(tally_);

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(setup, 1);
    layout->addWidget(test, 2);

    // Keys (webMUSHRA-style; only while this screen has focus).
    auto* play = key(this, "Play / pause", Qt::Key_Space, "Listening: play or pause the selected condition");
    auto* stop = key(this, "Stop", Qt::Key_Escape, "Listening: stop");
    auto* stop2 = key(this, "Stop (Backspace)", Qt::Key_Backspace, "Listening: stop");
    auto* ref0 = key(this, "Reference (0)", Qt::Key_0, "Listening: play the reference X");
    auto* refR = key(this, "Reference (R)", Qt::Key_R, "Listening: play the reference X");
    auto* c1 = key(this, "Condition A (1)", Qt::Key_1, "Listening: switch to A");
    auto* c2 = key(this, "Condition B (2)", Qt::Key_2, "Listening: switch to B");
    auto* c3 = key(this, "Condition X (3)", Qt::Key_3, "Listening: switch to X");
    auto* prev = key(this, "Previous condition", Qt::Key_Left, "Listening: previous condition");
    auto* next = key(this, "Next condition", Qt::Key_Right, "Listening: next condition");
    auto* loop = key(this, "Toggle loop", Qt::Key_L, "Listening: loop between the A and B loop points");
    auto* la = key(this, "Set loop start", Qt::Key_A, "Listening: set the loop start at the playhead");
    auto* lb = key(this, "Set loop end", Qt::Key_B, "Listening: set the loop end at the playhead");
    auto* lca = key(this, "Clear loop start", QKeySequence(Qt::SHIFT | Qt::Key_A), "Listening: clear the loop start");
    auto* lcb = key(this, "Clear loop end", QKeySequence(Qt::SHIFT | Qt::Key_B), "Listening: clear the loop end");
    auto* home = key(this, "Start of clip", Qt::Key_Home, "Listening: playhead to the start");
    auto* end = key(this, "End of clip", Qt::Key_End, "Listening: playhead to the end");
    actions_ = {play, stop, stop2, ref0, refR, c1, c2, c3, prev, next, loop, la, lb, lca, lcb, home, end};
    connect(play, &QAction::triggered, this, &AbListeningWidget::togglePlay);
    connect(stop, &QAction::triggered, transport_, &AudioTransport::stop);
    connect(stop2, &QAction::triggered, transport_, &AudioTransport::stop);
    connect(ref0, &QAction::triggered, this, [this] { selectSlot(2); });
    connect(refR, &QAction::triggered, this, [this] { selectSlot(2); });
    connect(c1, &QAction::triggered, this, [this] { selectSlot(0); });
    connect(c2, &QAction::triggered, this, [this] { selectSlot(1); });
    connect(c3, &QAction::triggered, this, [this] { selectSlot(2); });
    auto slotCount = [this] { return session_ && session_->mode() == AbMode::Abx ? 3 : 2; };
    connect(prev, &QAction::triggered, this, [this, slotCount] { selectSlot((slot_ + slotCount() - 1) % slotCount()); });
    connect(next, &QAction::triggered, this, [this, slotCount] { selectSlot((slot_ + 1) % slotCount()); });
    auto updateLoop = [this] { applyLoop(); };
    connect(loop, &QAction::triggered, this, [this, updateLoop] {
        loopOn_ = !loopOn_;
        updateLoop();
    });
    connect(la, &QAction::triggered, this, [this, updateLoop] {
        loopA_ = transport_->position();
        updateLoop();
    });
    connect(lb, &QAction::triggered, this, [this, updateLoop] {
        loopB_ = transport_->position();
        updateLoop();
    });
    connect(lca, &QAction::triggered, this, [this, updateLoop] {
        loopA_ = 0;
        updateLoop();
    });
    connect(lcb, &QAction::triggered, this, [this, updateLoop] {
        loopB_ = 0;
        updateLoop();
    });
    connect(home, &QAction::triggered, this, [this] {
        if (transport_->isPlaying() && session_)
            if (const auto* c = candidate(session_->conditionOf(trial_, slot_)))
                transport_->play(c->clip, 0, gainFor(session_->conditionOf(trial_, slot_)));
        waveform_->setPlayhead(0);
    });
    connect(end, &QAction::triggered, this, [this] {
        transport_->stop();
        waveform_->setPlayhead(waveform_->clip().durationSeconds());
    });
    connect(transport_, &AudioTransport::positionChanged, waveform_, &WaveformView::setPlayhead);
    connect(transport_, &AudioTransport::failed, this, &AbListeningWidget::statusMessage);
    connect(waveform_, &WaveformView::seekRequested, this, [this](double s) {
        // Play the slot's own clip: while blind the waveform shows a fixed one (see selectSlot).
        if (transport_->isPlaying() && session_)
            if (const auto* c = candidate(session_->conditionOf(trial_, slot_)))
                transport_->play(c->clip, s, gainFor(session_->conditionOf(trial_, slot_)));
    });
    connect(startBtn, &QPushButton::clicked, this, [this] {
        chosen_[0] = first_->currentIndex();
        chosen_[1] = second_->currentIndex();
        const auto mode = AbMode(mode_->currentData().toInt());
        if (newSeed_->isChecked()) startTestWithNewSeed(mode, trials_->value());
        else startTest(mode, uint32_t(seed_->value()), trials_->value());
    });
    connect(revealBtn, &QPushButton::clicked, this, [this] {
        if (!session_) return;
        session_->reveal();
        refresh();
    });
    connect(saveBtn, &QPushButton::clicked, this, [this] {
        if (!session_) return;
        const QString p = QFileDialog::getSaveFileName(this, "Save listening results", "ab-results.json", "JSON (*.json)");
        if (p.isEmpty()) return;
        try {
            session_->save(p, rater_->text());
            emit statusMessage("Saved " + p);
        } catch (const std::exception& e) {
            QMessageBox::warning(this, "Save results", e.what());
        }
    });
    connect(match_, &QCheckBox::toggled, this, [this] { refresh(); });
    connect(requirePlayback_, &QCheckBox::toggled, this, [this] { refresh(); });
    connect(debugLabels_, &QCheckBox::toggled, this, [this] { refresh(); });
    refresh();
}

void AbListeningWidget::addCandidate(const QString& name, const audio::AudioClip& clip) {
    double lufs = qQNaN();
    try {
        lufs = audio::measureLoudness(clip).integrated_lufs;
    } catch (const std::exception&) {
    }
    for (size_t i = 0; i < candidates_.size(); ++i)
        if (candidates_[i].name == name) {
            candidates_[i].clip = clip;
            candidates_[i].lufs = lufs;
            // A test of the old clip is over (its loudness matching and answers were about it).
            if (session_ && (chosen_[0] == int(i) || chosen_[1] == int(i))) endTest();
            refresh();
            return;
        }
    candidates_.push_back({name, clip, lufs});
    first_->addItem(name);
    second_->addItem(name);
    if (second_->count() == 2) second_->setCurrentIndex(1);
    refresh();
}

QStringList AbListeningWidget::candidateNames() const {
    QStringList out;
    for (const auto& c : candidates_) out << c.name;
    return out;
}

void AbListeningWidget::chooseConditions(const QString& a, const QString& b) {
    first_->setCurrentIndex(first_->findText(a));
    second_->setCurrentIndex(second_->findText(b));
    const bool same = chosen_[0] == first_->currentIndex() && chosen_[1] == second_->currentIndex();
    chosen_[0] = first_->currentIndex();
    chosen_[1] = second_->currentIndex();
    // New conditions: a test that was revealed, or that compares other clips, is over.
    if (session_ && (session_->revealed() || !same)) endTest();
    refresh();
}

void AbListeningWidget::endTest() {
    transport_->stop();
    session_.reset();
    trial_ = slot_ = heard_ = 0;
    if (const auto* c = candidate(0)) waveform_->setClip(c->clip);
    waveform_->setPlayhead(0);
}

void AbListeningWidget::markHeard() {
    if (session_ && transport_->isPlaying()) heard_ |= 1 << slot_;
}

bool AbListeningWidget::canAnswer() const {
    if (!session_) return false;
    if (session_->mode() == AbMode::Abx && !(heard_ & 4)) return false;
    const int all = session_->mode() == AbMode::Abx ? 7 : 3;
    return !requirePlayback_->isChecked() || (heard_ & all) == all;
}

void AbListeningWidget::setRequirePlayback(bool on) { requirePlayback_->setChecked(on); }

QString AbListeningWidget::hintText() const { return gain_->text(); }

const AbListeningWidget::Candidate* AbListeningWidget::candidate(int condition) const {
    if (condition < 0 || condition > 1) return nullptr;
    const int i = chosen_[condition];
    return i >= 0 && i < int(candidates_.size()) ? &candidates_[size_t(i)] : nullptr;
}

double AbListeningWidget::gainFor(int condition) const {
    return session_ && match_->isChecked() && condition >= 0 ? session_->matchGainDb(condition) : 0.0;
}

bool AbListeningWidget::startTest(AbMode mode, uint32_t seed, int trials) {
    if (chosen_[0] < 0 || chosen_[1] < 0 || chosen_[0] == chosen_[1]) {
        emit statusMessage("Pick two different conditions first");
        return false;
    }
    if (seed > uint32_t(seed_->maximum())) {
        emit statusMessage(QString("Seed %1 is above %2: pick a smaller one").arg(seed).arg(seed_->maximum()));
        return false;
    }
    transport_->stop();
    const auto* a = candidate(0);
    const auto* b = candidate(1);
    session_ = std::make_unique<AbSession>(mode, QStringList{a->name, b->name}, std::vector<double>{a->lufs, b->lufs}, seed, trials);
    if (debugLabels_->isChecked()) session_->reveal();
    // The boxes show the test in use, whoever chose it (seed generated, typed or passed in; a mode
    // and a trial count passed in).
    seed_->setValue(int(seed));
    mode_->setCurrentIndex(mode_->findData(int(mode)));
    trials_->setValue(trials);
    trial_ = 0;
    slot_ = 0;
    heard_ = 0;
    selectSlot(0);
    return true;
}

bool AbListeningWidget::startTestWithNewSeed(AbMode mode, int trials) {
    return startTest(mode, uint32_t(QRandomGenerator::global()->bounded(seed_->maximum())), trials);
}

int AbListeningWidget::seedShown() const { return seed_->value(); }
void AbListeningWidget::setNewSeedEachTest(bool on) { newSeed_->setChecked(on); }

void AbListeningWidget::selectSlot(int slot) {
    if (!session_) return;
    if (slot == 2 && session_->mode() != AbMode::Abx) return;
    slot_ = slot;
    const int cond = session_->conditionOf(trial_, slot_);
    const auto* c = candidate(cond);
    if (!c) return;
    // Keep the playhead: while playing the player switches at its own position, to the sample
    // (crossfading); while stopped the waveform's playhead stays (a click to seek while stopped
    // moves only it, and Space starts from it).
    const bool playing = transport_->isPlaying();
    const double pos = playing ? transport_->position() : waveform_->playhead();
    waveform_->setClip(c->clip);  // the clip in the slot
    waveform_->setPlayhead(pos);
    transport_->switchTo(c->clip, gainFor(cond), 15, playing ? -1.0 : pos);
    markHeard();
    refresh();
}

void AbListeningWidget::togglePlay() {
    if (!session_) return;
    if (transport_->isPlaying()) {
        transport_->stop();
        return;
    }
    const int cond = session_->conditionOf(trial_, slot_);
    if (const auto* c = candidate(cond)) {
        double start = waveform_->playhead();
        if (start >= c->clip.durationSeconds() - 0.01) start = 0;  // at the end: Space replays
        transport_->play(c->clip, start, gainFor(cond));
        markHeard();
        refresh();
    }
}

bool AbListeningWidget::answer(int slot) {
    if (!session_ || trial_ >= session_->trialCount()) return false;
    if (!canAnswer()) {
        emit statusMessage(session_->mode() == AbMode::Abx && !(heard_ & 4) ? "Play X before answering"
                                                                            : "Play every clip of this trial before answering");
        return false;
    }
    session_->answer(trial_, slot);
    if (trial_ + 1 < session_->trialCount()) {
        ++trial_;
        transport_->stop();
        heard_ = 0;
        selectSlot(0);
    } else {
        trial_ = session_->trialCount() - 1;
        emit statusMessage("Test complete: reveal or save the results");
    }
    refresh();
    return true;
}

QStringList AbListeningWidget::slotTexts() const {
    QStringList out;
    for (auto* b : slotButtons_) out << b->text();
    return out;
}

QString AbListeningWidget::tallyText() const { return tally_->text(); }
QString AbListeningWidget::gainText() const { return gain_->text(); }
QString AbListeningWidget::loopText() const { return loopLabel_->text(); }

void AbListeningWidget::setLoop(double a, double b, bool on) {
    loopA_ = std::max(0.0, a);
    loopB_ = std::max(0.0, b);
    loopOn_ = on;
    applyLoop();
}

void AbListeningWidget::applyLoop() {
    if (loopOn_ && loopB_ > loopA_) transport_->setLoop(loopA_, loopB_);
    else transport_->setLoop(0, 0);
    waveform_->setRegion(loopA_, loopB_);
    loopLabel_->setText(loopOn_ && loopB_ > loopA_ ? QString("Loop %1–%2 s").arg(loopA_, 0, 'f', 2).arg(loopB_, 0, 'f', 2)
                                                   : QString("Loop off (A %1 s, B %2 s)").arg(loopA_, 0, 'f', 2).arg(loopB_, 0, 'f', 2));
}

void AbListeningWidget::refresh() {
    const bool abx = session_ && session_->mode() == AbMode::Abx;
    for (int i = 0; i < 3; ++i) {
        static_cast<ElidedButton*>(slotButtons_[i])->setFullText(session_ ? session_->slotLabel(trial_, i) : QString("ABX"[i]));
        slotButtons_[i]->setChecked(session_ && i == slot_);
        slotButtons_[i]->setVisible(i < 2 || abx || !session_);
        slotButtons_[i]->setEnabled(bool(session_));
    }
    answerButtons_[0]->setText(abx ? "X is A" : "Prefer A");
    answerButtons_[1]->setText(abx ? "X is B" : "Prefer B");
    for (auto* b : answerButtons_) b->setEnabled(canAnswer());
    if (!session_) {
        trialLabel_->setText("Pick two conditions and press Start test. Keys: Space play, Esc stop, 1/2/3 = A/B/X, ←/→, L loop, A/B loop points.");
        tally_->clear();
        gain_->setText(candidates_.empty() ? "No candidates yet: import prompts or render answers on the Ask screen"
                                           : QString("%1 candidates: pick two and press Start test").arg(candidates_.size()));
        return;
    }
    trialLabel_->setText(QString("Trial %1 of %2 · seed %3%4").arg(trial_ + 1).arg(session_->trialCount()).arg(session_->seed())
                             .arg(session_->revealed() ? " · revealed" : ""));
    if (abx)
        tally_->setText(QString("ABX tally: %1 answered, %2 correct, p = %3 (one-sided binomial)")
                            .arg(session_->answered())
                            .arg(session_->revealed() ? QString::number(session_->correct()) : QString("hidden until reveal"))
                            .arg(session_->revealed() ? QString::number(session_->pValue(), 'g', 3) : QString("–")));
    else
        tally_->setText(QString("%1 of %2 answered").arg(session_->answered()).arg(session_->trialCount()));
    if (match_->isChecked() && session_->revealed()) {
        const int cond = session_->conditionOf(trial_, slot_);
        gain_->setText(QString("Loudness matching on: this slot plays at %1 dB").arg(gainFor(cond), 0, 'f', 1));
    } else if (match_->isChecked()) {
        // Blind: a per-slot gain would tell the rater which slot holds the louder condition.
        const double offset = std::abs(session_->matchGainDb(0) - session_->matchGainDb(1));
        gain_->setText(QString("Loudness matching on: the louder condition plays %1 dB down (per-slot gain hidden until reveal)")
                           .arg(offset, 0, 'f', 1));
    } else {
        gain_->setText("Loudness matching off");
    }
}

}  // namespace xopd::widgets

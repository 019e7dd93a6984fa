#include "widgets/prompts/PromptLibraryWidget.h"

#include "core/audio/AudioDevices.h"
#include "core/audio/Tts.h"
#include "core/data/PromptAugmentation.h"
#include "widgets/audio/AudioTransport.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/common/Background.h"
#include "widgets/prompts/AugmentDialog.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileInfo>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

namespace xopd::widgets {

namespace {
QAction* act(QObject* parent, const QString& text, const QKeySequence& key, const QString& tip,
             Qt::ShortcutContext ctx = Qt::WindowShortcut) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    a->setShortcutContext(ctx);
    return a;
}
}  // namespace

PromptLibraryWidget::PromptLibraryWidget(PromptLibraryModel* model, QWidget* parent)
    : QWidget(parent), model_(model), transport_(new AudioTransport(this)), pump_(new QTimer(this)) {
    setAcceptDrops(true);
    workspace_ = QDir::current().absoluteFilePath("workspace");
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(PromptLibraryModel::SortRole);
    proxy_->setFilterKeyColumn(-1);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    table_ = new QTableView(this);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    // Name and Transcript get the room; Tags and the measured columns take what they need.
    auto* header = table_->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(PromptLibraryModel::Transcript, QHeaderView::Stretch);
    header->resizeSection(PromptLibraryModel::Name, 240);
    header->resizeSection(PromptLibraryModel::Tags, 140);
    for (int c : {PromptLibraryModel::Duration, PromptLibraryModel::Split, PromptLibraryModel::Source})
        header->resizeSection(c, 80);
    header->resizeSection(PromptLibraryModel::Format, 120);
    header->resizeSection(PromptLibraryModel::Loudness, 100);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    table_->setAlternatingRowColors(true);

    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText("Filter prompts (text; tick Regex for a regular expression)");
    filter_->setClearButtonEnabled(true);
    regex_ = new QCheckBox("Regex", this);

    auto* importFiles = act(this, "Import audio &files…", QKeySequence::Open, "Import audio files into the prompt library");
    auto* importFolder = act(this, "Import &folder…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), "Import every audio file under a folder");
    auto* importManifest = act(this, "Import &manifest…", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O), "Import a JSONL prompt manifest");
    auto* saveManifest = act(this, "&Save library as manifest…", QKeySequence::Save, "Write the library as a JSONL manifest");
    auto* record = act(this, "&Record", QKeySequence(Qt::CTRL | Qt::Key_R), "Start or stop recording from the chosen microphone");
    record->setCheckable(true);
    auto* playA = act(this, "&Play", QKeySequence(Qt::Key_Space), "Play the selected prompt", Qt::WidgetWithChildrenShortcut);
    auto* playTab = act(this, "Play (Tab)", QKeySequence(Qt::Key_Tab), "Play the selected prompt", Qt::WidgetWithChildrenShortcut);
    auto* stopA = act(this, "S&top playback", QKeySequence(Qt::Key_Escape), "Stop playback", Qt::WidgetWithChildrenShortcut);
    auto* home = act(this, "Go to start", QKeySequence(Qt::Key_Home), "Move the playhead to the start", Qt::WidgetWithChildrenShortcut);
    auto* removeA = act(this, "Remove prompt", QKeySequence::Delete, "Remove the selected prompt from the library", Qt::WidgetWithChildrenShortcut);
    auto* synth = act(this, "S&ynthesize speech", QKeySequence(Qt::CTRL | Qt::Key_T), "Speak the text with the chosen voice and add the clip");
    auto* augment = act(this, "&Augment…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_U),
                        "Put prompts under acoustic conditions: noise at an SNR, speed, tempo, reverb, telephone");
    actions_ = {importFiles, importFolder, importManifest, saveManifest, record, playA, playTab, stopA, home, removeA, synth, augment};
    for (QAction* a : {playA, playTab, stopA, home, removeA}) addAction(a);

    auto* bar = new QHBoxLayout;
    for (QAction* a : {importFiles, importFolder, importManifest, saveManifest, augment}) {
        auto* b = new QToolButton(this);
        b->setDefaultAction(a);
        bar->addWidget(b);
    }
    bar->addWidget(filter_, 1);
    bar->addWidget(regex_);

    // Recording group.
    auto* recBox = new QGroupBox("Record", this);
    inputDevice_ = new QComboBox(recBox);
    inputDevice_->setMinimumWidth(160);
    auto* recBtn = new QToolButton(recBox);
    recBtn->setDefaultAction(record);
    meter_ = new QProgressBar(recBox);
    meter_->setRange(0, 100);
    meter_->setTextVisible(false);
    meter_->setMaximumHeight(12);
    meter_->setToolTip("Input peak level");
    recLabel_ = new QLabel("0.0 s", recBox);
    clipWarning_ = new QLabel(recBox);
    clipWarning_->setStyleSheet("color:#c62828;font-weight:bold");
    auto* rl = new QHBoxLayout(recBox);
    rl->addWidget(inputDevice_);
    rl->addWidget(recBtn);
    rl->addWidget(meter_, 1);
    rl->addWidget(recLabel_);
    rl->addWidget(clipWarning_);

    // TTS group.
    auto* ttsBox = new QGroupBox("Synthesize", this);
    ttsText_ = new QLineEdit(ttsBox);
    ttsText_->setPlaceholderText("Text to speak (becomes the transcript)");
    voice_ = new QComboBox(ttsBox);
    voice_->setMinimumWidth(140);
    auto* synthBtn = new QToolButton(ttsBox);
    synthBtn->setDefaultAction(synth);
    auto* tl = new QHBoxLayout(ttsBox);
    tl->addWidget(ttsText_, 1);
    tl->addWidget(voice_);
    tl->addWidget(synthBtn);

    auto* capture = new QHBoxLayout;
    capture->addWidget(recBox, 1);
    capture->addWidget(ttsBox, 1);

    // Preview.
    waveform_ = new WaveformView(this);
    spectro_ = new QCheckBox("Spectrogram", this);
    spectro_->setToolTip("Show the log-mel spectrogram (Whisper front end) instead of the waveform");
    loudness_ = new QLabel(this);
    auto* playBtn = new QToolButton(this);
    playBtn->setDefaultAction(playA);
    auto* stopBtn = new QToolButton(this);
    stopBtn->setDefaultAction(stopA);
    auto* previewBar = new QHBoxLayout;
    previewBar->addWidget(playBtn);
    previewBar->addWidget(stopBtn);
    previewBar->addWidget(spectro_);
    previewBar->addStretch(1);
    previewBar->addWidget(loudness_);
    auto* preview = new QWidget(this);
    auto* pl = new QVBoxLayout(preview);
    pl->setContentsMargins(0, 0, 0, 0);
    pl->addLayout(previewBar);
    pl->addWidget(waveform_, 1);

    // Shown while a large set (the demo kit) is read on a worker thread, instead of an empty table.
    loading_ = new QWidget(this);
    auto* ll = new QHBoxLayout(loading_);
    ll->setContentsMargins(0, 0, 0, 0);
    loadingLabel_ = new QLabel(loading_);
    auto* busy = new QProgressBar(loading_);
    busy->setRange(0, 0);  // busy: the count is not known until the read is done
    busy->setMaximumHeight(12);
    ll->addWidget(loadingLabel_);
    ll->addWidget(busy, 1);
    loading_->hide();
    // Shown while an augmentation runs: what it does, its progress (drained from the worker's
    // counters at 10 Hz) and Cancel.
    augmentBox_ = new QWidget(this);
    auto* al = new QHBoxLayout(augmentBox_);
    al->setContentsMargins(0, 0, 0, 0);
    augmentLabel_ = new QLabel(augmentBox_);
    augmentBar_ = new QProgressBar(augmentBox_);
    augmentBar_->setMaximumHeight(12);
    auto* augmentCancel = new QPushButton("Cancel", augmentBox_);
    al->addWidget(augmentLabel_);
    al->addWidget(augmentBar_, 1);
    al->addWidget(augmentCancel);
    augmentBox_->hide();
    augmentTimer_ = new QTimer(this);
    augmentTimer_->setInterval(100);
    connect(augmentTimer_, &QTimer::timeout, this, &PromptLibraryWidget::pollAugment);
    connect(augmentCancel, &QPushButton::clicked, this, &PromptLibraryWidget::cancelAugment);
    auto* tableBox = new QWidget(this);
    auto* tb = new QVBoxLayout(tableBox);
    tb->setContentsMargins(0, 0, 0, 0);
    tb->addWidget(loading_);
    tb->addWidget(augmentBox_);
    tb->addWidget(table_, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(tableBox);
    split->addWidget(preview);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addLayout(capture);
    layout->addWidget(split, 1);

    auto applyFilter = [this] {
        if (regex_->isChecked()) {
            QRegularExpression re(filter_->text(), QRegularExpression::CaseInsensitiveOption);
            filter_->setStyleSheet(re.isValid() ? QString() : QString("background:#ffd6d6"));
            if (re.isValid()) proxy_->setFilterRegularExpression(re);
        } else {
            filter_->setStyleSheet({});
            proxy_->setFilterFixedString(filter_->text());
        }
    };
    connect(filter_, &QLineEdit::textChanged, this, applyFilter);
    connect(regex_, &QCheckBox::toggled, this, applyFilter);
    connect(importFiles, &QAction::triggered, this, [this] {
        importPaths(QFileDialog::getOpenFileNames(this, "Import audio", {}, "Audio (*.wav *.flac *.ogg *.aiff *.mp3);;All files (*)"));
    });
    connect(importFolder, &QAction::triggered, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, "Import folder");
        if (!d.isEmpty()) importPaths({d});
    });
    connect(importManifest, &QAction::triggered, this, [this] {
        importPaths(QFileDialog::getOpenFileNames(this, "Import manifest", {}, "JSONL manifests (*.jsonl)"));
    });
    connect(saveManifest, &QAction::triggered, this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, "Save manifest", workspace_ + "/prompts.jsonl", "JSONL (*.jsonl)");
        if (p.isEmpty()) return;
        try {
            model_->saveManifest(p);
            emit statusMessage("Saved " + p);
        } catch (const std::exception& e) {
            QMessageBox::warning(this, "Save manifest", e.what());
        }
    });
    connect(record, &QAction::triggered, this, [this, record](bool) {
        if (isRecording()) stopRecording();
        else startRecording();
        record->setChecked(isRecording());
    });
    connect(playA, &QAction::triggered, this, &PromptLibraryWidget::play);
    connect(playTab, &QAction::triggered, this, &PromptLibraryWidget::play);
    connect(stopA, &QAction::triggered, transport_, &AudioTransport::stop);
    connect(home, &QAction::triggered, this, [this] { waveform_->setPlayhead(0); });
    connect(removeA, &QAction::triggered, this, [this] {
        const int r = currentRow();
        if (r >= 0) model_->removeRows(r, 1);
    });
    connect(synth, &QAction::triggered, this, &PromptLibraryWidget::synthesize);
    connect(augment, &QAction::triggered, this, &PromptLibraryWidget::openAugmentDialog);
    connect(spectro_, &QCheckBox::toggled, waveform_, &WaveformView::setSpectrogram);
    connect(waveform_, &WaveformView::seekRequested, this, [this](double s) {
        if (transport_->isPlaying()) transport_->play(waveform_->clip(), s);
    });
    connect(transport_, &AudioTransport::positionChanged, waveform_, &WaveformView::setPlayhead);
    connect(transport_, &AudioTransport::failed, this, [this](const QString& m) { emit statusMessage("Playback: " + m); });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] { showCurrent(); });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
        if (i.column() == PromptLibraryModel::Name) emit promptActivated(proxy_->mapToSource(i).row());
    });
    pump_->setInterval(50);
    connect(pump_, &QTimer::timeout, this, &PromptLibraryWidget::pollRecorder);
    refreshDevices();
}

PromptLibraryWidget::~PromptLibraryWidget() {
    // A running augmentation stops at its next clip and removes what it wrote; its result is
    // dropped (runInBackground does not call back into a destroyed widget).
    if (augmentJob_) augmentJob_->cancel = true;
    if (recorder_) {
        try {
            recorder_->stop();
        } catch (...) {
        }
    }
}

void PromptLibraryWidget::refreshDevices() {
    inputDevice_->clear();
    voice_->clear();
    inputDevice_->addItem("Default input", QString());
    try {
        for (const auto& d : audio::listAudioDevices())
            if (d.max_input_channels > 0) inputDevice_->addItem(QString::fromStdString(d.name), QString::fromStdString(d.name));
    } catch (const std::exception& e) {
        inputDevice_->setToolTip(QString::fromUtf8(e.what()));
    }
    try {
        voice_->addItem("en", "en");
        for (const auto& v : audio::listVoices())
            if (v.language.rfind("en", 0) == 0) voice_->addItem(QString::fromStdString(v.name), QString::fromStdString(v.language));
    } catch (const std::exception& e) {
        voice_->setToolTip(QString::fromUtf8(e.what()));
    }
}

void PromptLibraryWidget::setLoading(const QString& message) {
    loadingLabel_->setText(message);
    loading_->setVisible(!message.isEmpty());
}

bool PromptLibraryWidget::isLoading() const { return !loading_->isHidden(); }
QString PromptLibraryWidget::loadingText() const { return isLoading() ? loadingLabel_->text() : QString(); }

int PromptLibraryWidget::currentRow() const {
    const QModelIndex i = table_->currentIndex();
    return i.isValid() ? proxy_->mapToSource(i).row() : -1;
}

void PromptLibraryWidget::selectRow(int sourceRow) {
    const QModelIndex i = proxy_->mapFromSource(model_->index(sourceRow, 0));
    if (i.isValid()) table_->setCurrentIndex(i);
}

void PromptLibraryWidget::importPaths(const QStringList& paths) {
    QStringList problems;
    const int before = model_->rowCount();
    for (const QString& p : paths) problems << model_->addPath(p);
    emit statusMessage(QString("Imported %1 prompt(s)%2").arg(model_->rowCount() - before).arg(problems.isEmpty() ? "" : QString(", %1 problem(s)").arg(problems.size())));
    if (problems.isEmpty()) return;
    emit importProblems(problems);
    // Modeless: the Log panel keeps every line; the box shows the first few.
    auto* box = new QMessageBox(QMessageBox::Warning, "Import", problems.mid(0, 20).join('\n'), QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->show();
}

void PromptLibraryWidget::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void PromptLibraryWidget::dropEvent(QDropEvent* e) {
    QStringList paths;
    for (const QUrl& u : e->mimeData()->urls())
        if (u.isLocalFile()) paths << u.toLocalFile();
    importPaths(paths);
    e->acceptProposedAction();
}

void PromptLibraryWidget::showCurrent() {
    const int r = currentRow();
    if (r < 0) {
        waveform_->setClip({});
        loudness_->clear();
        return;
    }
    transport_->stop();
    try {
        waveform_->setClip(model_->loadClip(r));
        const auto& e = model_->entry(r);
        loudness_->setText(QString("%1 · %2").arg(e.id, model_->data(model_->index(r, PromptLibraryModel::Loudness)).toString()));
    } catch (const std::exception& ex) {
        waveform_->setClip({});
        loudness_->setText(QString::fromUtf8(ex.what()));
    }
}

void PromptLibraryWidget::play() {
    if (transport_->isPlaying()) {
        transport_->stop();
        return;
    }
    if (waveform_->clip().empty()) return;
    double start = waveform_->playhead();
    if (start >= waveform_->clip().durationSeconds() - 0.01) start = 0;
    transport_->play(waveform_->clip(), start);
}

void PromptLibraryWidget::synthesize() {
    const QString text = ttsText_->text().trimmed();
    if (text.isEmpty()) {
        emit statusMessage("Type the text to synthesize first");
        return;
    }
    try {
        audio::TtsOptions o;
        o.voice = voice_->currentData().toString().toStdString();
        const auto clip = audio::synthesizeSpeech(text.toStdString(), o);
        const int row = model_->addClip(clip, workspace_ + "/synthesized", "tts-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss"),
                                        "synthesized", text);
        selectRow(row);
        emit statusMessage(QString("Synthesized %1 s").arg(clip.durationSeconds(), 0, 'f', 2));
    } catch (const std::exception& e) {
        QMessageBox::warning(this, "Synthesize", e.what());
    }
}

bool PromptLibraryWidget::startRecording() {
    if (recorder_) return true;
    try {
        audio::RecordOptions o;
        o.device = inputDevice_->currentData().toString().toStdString();
        o.sample_rate = 16000;
        recorder_ = std::make_unique<audio::AudioRecorder>(o);
        recorder_->start();
    } catch (const std::exception& e) {
        recorder_.reset();
        emit statusMessage(QString("Recording: %1").arg(e.what()));
        clipWarning_->setText(QString::fromUtf8(e.what()));
        return false;
    }
    clipped_ = false;
    peakSinceUi_ = 0;
    uiTicks_ = 0;
    clipWarning_->clear();
    pump_->start();
    emit statusMessage("Recording… (Ctrl+R stops)");
    return true;
}

void PromptLibraryWidget::pollRecorder() {
    if (!recorder_) return;
    try {
        recorder_->pump();
    } catch (const std::exception& e) {
        emit statusMessage(QString("Recording: %1").arg(e.what()));
    }
    // Every block's peak since the last poll: the latest block alone would miss a burst between
    // two polls (and, from a device faster than real time, show only the silence after it).
    const float peak = recorder_->takePeakSinceLastCall();
    peakSinceUi_ = std::max(peakSinceUi_, peak);
    if (peak >= 0.99f) clipped_ = true;
    if (++uiTicks_ % 4 == 0) {  // 200 ms: duration counter and meter (5 Hz)
        meter_->setValue(int(std::lround(100 * std::min(1.f, peakSinceUi_))));
        recLabel_->setText(QString("%1 s").arg(recorder_->recordedSeconds(), 0, 'f', 1));
        clipWarning_->setText(clipped_ ? "CLIPPING: lower the input gain" : QString());
        peakSinceUi_ = 0;
    }
}

int PromptLibraryWidget::stopRecording() {
    if (!recorder_) return -1;
    pump_->stop();
    int row = -1;
    try {
        const auto clip = recorder_->stop();
        recorder_.reset();
        // The live warning sees every block's peak; still look at every recorded sample once, so the
        // verdict holds for exactly the audio that was kept.
        for (float s : clip.samples)
            if (std::fabs(s) >= 0.99f) {
                clipped_ = true;
                break;
            }
        clipWarning_->setText(clipped_ ? "CLIPPING: lower the input gain" : QString());
        meter_->setValue(0);
        recLabel_->setText(QString("%1 s").arg(clip.durationSeconds(), 0, 'f', 1));
        row = model_->addClip(clip, workspace_ + "/recordings", "rec-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss"), "recorded");
        selectRow(row);
        emit statusMessage(QString("Recorded %1 s%2").arg(clip.durationSeconds(), 0, 'f', 1).arg(clipped_ ? " (clipped)" : ""));
    } catch (const std::exception& e) {
        recorder_.reset();
        QMessageBox::warning(this, "Recording", e.what());
    }
    return row;
}

void PromptLibraryWidget::openAugmentDialog() {
    if (isAugmenting()) {
        emit statusMessage("An augmentation is already running");
        return;
    }
    auto* dialog = new AugmentDialog(currentRow() >= 0 ? 1 : 0, proxy_->rowCount(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        QList<int> rows;
        if (dialog->allShown()) {
            for (int r = 0; r < proxy_->rowCount(); ++r) rows << proxy_->mapToSource(proxy_->index(r, 0)).row();
        } else if (currentRow() >= 0) {
            rows << currentRow();
        }
        startAugment(rows, dialog->conditionSpecs(), dialog->seed());
    });
    dialog->open();
}

bool PromptLibraryWidget::startAugment(const QList<int>& sourceRows, const QStringList& specs, unsigned seed) {
    if (isAugmenting()) {
        emit statusMessage("An augmentation is already running");
        return false;
    }
    data::AugmentOptions options;
    options.seed = seed;
    try {
        for (const QString& spec : specs) options.conditions.push_back(data::parseAcousticCondition(spec.toStdString()));
    } catch (const std::exception& e) {
        emit statusMessage(QString("Augment: %1").arg(e.what()));
        return false;
    }
    std::vector<data::PromptItem> items;
    QStringList skipped;
    for (int row : sourceRows) {
        if (row < 0 || row >= model_->rowCount()) continue;
        const PromptEntry& e = model_->entry(row);
        if (e.transcript.trimmed().isEmpty()) {
            skipped << QString("%1: not augmented, it has no transcript yet").arg(e.id);
            continue;
        }
        data::PromptItem item;
        item.id = e.id.toStdString();
        item.audio = item.audio_path = e.path.toStdString();
        item.transcript = e.transcript.toStdString();
        item.split = e.split.toStdString();
        for (const QString& t : e.tags) item.tags.push_back(t.toStdString());
        item.voice = e.voice.toStdString();
        items.push_back(std::move(item));
    }
    if (!skipped.isEmpty()) emit importProblems(skipped);
    if (items.empty() || options.conditions.empty()) {
        emit statusMessage(options.conditions.empty() ? "Augment: no condition chosen" : "Augment: no prompt with a transcript to augment");
        return false;
    }
    const QString base = workspace_ + "/augmented/" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
    QString out = base;
    for (int n = 2; QFileInfo::exists(out); ++n) out = QString("%1-%2").arg(base).arg(n);
    QDir().mkpath(QFileInfo(out).absolutePath());

    auto job = std::make_shared<AugmentJob>();
    job->total = int(items.size() * options.conditions.size());
    options.progress = [job](int done, int) { job->done = done; };
    options.abort = [job] { return job->cancel.load(); };
    augmentJob_ = job;
    augmentBar_->setRange(0, job->total);
    augmentBar_->setValue(0);
    augmentLabel_->setText(QString("Augmenting %1 prompt(s) × %2 condition(s)…").arg(items.size()).arg(options.conditions.size()));
    augmentBox_->show();
    augmentTimer_->start();
    emit statusMessage(augmentLabel_->text());
    runInBackground(
        this,
        [items = std::move(items), out, options = std::move(options)] {
            const data::AugmentReport r = data::augmentPrompts(items, out.toStdString(), options);
            // Headers probed and loudness measured here, off the GUI thread.
            auto entries = PromptLibraryModel::readManifest(QString::fromStdString(r.manifest_path));
            for (auto& e : entries) e.source = "augmented";
            return std::make_pair(std::move(entries), QString::fromStdString(r.manifest_path));
        },
        [this](std::pair<std::vector<PromptEntry>, QString> result) {
            endAugment();
            const int n = int(result.first.size());
            const int first = model_->addEntries(std::move(result.first));
            selectRow(first);
            emit statusMessage(QString("Augmented: %1 new prompt(s) in %2").arg(n).arg(QFileInfo(result.second).absolutePath()));
            emit augmentFinished(n, result.second);
        },
        [this](const QString& error) {
            endAugment();
            emit statusMessage("Augment: " + error);
            emit augmentFailed(error);
        });
    return true;
}

void PromptLibraryWidget::cancelAugment() {
    if (augmentJob_) augmentJob_->cancel = true;
}

void PromptLibraryWidget::pollAugment() {
    if (!augmentJob_) return;
    augmentBar_->setValue(augmentJob_->done);
}

void PromptLibraryWidget::endAugment() {
    augmentTimer_->stop();
    augmentJob_.reset();
    augmentBox_->hide();
}

QString PromptLibraryWidget::augmentStatus() const {
    return isAugmenting() ? QString("%1 %2/%3").arg(augmentLabel_->text()).arg(augmentJob_->done).arg(augmentJob_->total) : QString();
}

int PromptLibraryWidget::meterLevel() const { return meter_->value(); }
QString PromptLibraryWidget::clipWarningText() const { return clipWarning_->text(); }

QString PromptLibraryWidget::recordingStatus() const {
    return recLabel_->text() + (clipWarning_->text().isEmpty() ? QString() : " " + clipWarning_->text());
}

}  // namespace xopd::widgets

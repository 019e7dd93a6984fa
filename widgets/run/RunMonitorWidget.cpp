#include "widgets/run/RunMonitorWidget.h"

#include "widgets/common/KnobSpinBox.h"
#include "widgets/run/LogPanel.h"
#include "widgets/run/RankTimesPanel.h"
#include "widgets/tokens/TokenStore.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QDateTime>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

namespace xopd::widgets {

namespace {
QString hms(double s) {
    if (!std::isfinite(s) || s < 0) return "–";
    const qint64 t = qint64(s + 0.5);
    return QString("%1:%2:%3").arg(t / 3600, 2, 10, QChar('0')).arg((t / 60) % 60, 2, 10, QChar('0')).arg(t % 60, 2, 10, QChar('0'));
}
QString badgeStyle(RunState s) {
    QString bg = "#777";
    switch (s) {
        case RunState::Running: bg = "#2e7d32"; break;
        case RunState::Pausing:
        case RunState::Paused: bg = "#b26a00"; break;
        case RunState::Stopping:
        case RunState::Stopped: bg = "#455a64"; break;
        case RunState::Finished: bg = "#1565c0"; break;
        case RunState::Failed: bg = "#c62828"; break;
        case RunState::Cancelled: bg = "#6d4c41"; break;
        default: break;
    }
    return QString("QLabel{background:%1;color:white;border-radius:8px;padding:2px 10px;font-weight:bold}").arg(bg);
}
QAction* makeAction(QObject* parent, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    return a;
}
}  // namespace

RunMonitorWidget::RunMonitorWidget(MetricStore* metrics, TokenStore* tokens, LogPanel* log, QWidget* parent)
    : QWidget(parent), metrics_(metrics), tokens_(tokens), log_(log), bridge_(new RunBridge(this)) {
    start_ = makeAction(this, "&Start run", QKeySequence(Qt::CTRL | Qt::Key_Return), "Start the run (or resume it from its last checkpoint)");
    pause_ = makeAction(this, "&Pause run", QKeySequence(Qt::CTRL | Qt::Key_P), "Pause the run at the next step boundary");
    resume_ = makeAction(this, "Res&ume run", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), "Resume the paused run");
    stop_ = makeAction(this, "S&top run", QKeySequence(Qt::CTRL | Qt::Key_Period), "Stop: finish the step, checkpoint and keep the run");
    cancel_ = makeAction(this, "&Cancel run", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Period), "Cancel: abandon the run and discard its folder");
    fit_ = makeAction(this, "&Fit charts", QKeySequence(Qt::Key_F), "Fit every chart to its data (auto-scale)");
    fit_->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    toggleLogY_ = makeAction(this, "&Log-scale Y", QKeySequence(Qt::CTRL | Qt::Key_L), "Toggle a logarithmic y axis on the charts");
    toggleLogY_->setCheckable(true);
    auto* zoomReset = makeAction(this, "Reset chart zoom", QKeySequence(Qt::CTRL | Qt::Key_0), "Reset the zoom of every chart");
    actions_ = {start_, pause_, resume_, stop_, cancel_, fit_, toggleLogY_, zoomReset};
    addAction(fit_);

    // Controls row.
    badge_ = new QLabel("idle", this);
    badge_->setStyleSheet(badgeStyle(RunState::Idle));
    auto* controls = new QHBoxLayout;
    controls->addWidget(badge_);
    for (QAction* a : {start_, pause_, resume_, stop_, cancel_}) {
        auto* b = new QToolButton(this);
        b->setDefaultAction(a);
        b->setToolButtonStyle(Qt::ToolButtonTextOnly);
        controls->addWidget(b);
    }
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setMaximumWidth(220);
    progressLabel_ = new QLabel(this);
    stalled_ = new QLabel(this);
    stalled_->setStyleSheet("color:#c62828;font-weight:bold");
    controls->addWidget(progress_);
    controls->addWidget(progressLabel_, 1);
    controls->addWidget(stalled_);

    // Chart options row.
    smoothing_ = new QSlider(Qt::Horizontal, this);
    smoothing_->setRange(0, 99);
    smoothing_->setValue(60);
    smoothing_->setMaximumWidth(140);
    smoothing_->setToolTip("EMA smoothing (debiased); 0.6 by default");
    smoothingLabel_ = new QLabel("0.60", this);
    xAxis_ = new QComboBox(this);
    xAxis_->addItem("Step", int(XAxisKind::Step));
    xAxis_->addItem("Relative time", int(XAxisKind::RelativeTime));
    xAxis_->addItem("Wall time", int(XAxisKind::WallTime));
    outliers_ = new QCheckBox("Ignore outliers", this);
    outliers_->setChecked(true);
    outliers_->setToolTip("Auto-scale y to the 1st–99th percentile");
    logY_ = new QCheckBox("Log Y", this);
    rectZoom_ = new QCheckBox("Rectangle zoom", this);
    syncX_ = new QCheckBox("Sync X", this);
    syncX_->setChecked(true);
    syncX_->setToolTip("Zooming one chart's x axis zooms all of them");
    legend_ = new QCheckBox("Legend", this);
    legend_->setChecked(true);
    legend_->setToolTip("Show the legend under each chart (outside the plot area)");
    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText("Filter charts (name or regex)");
    filter_->setClearButtonEnabled(true);
    filter_->setMaximumWidth(240);
    filter_->setToolTip("Shows the charts whose name matches (case-insensitive regular expression); pinned charts always show. "
                        "Right-click a chart to pin it.");
    auto* fitBtn = new QToolButton(this);
    fitBtn->setDefaultAction(fit_);
    auto* chartBar = new QHBoxLayout;
    chartBar->addWidget(new QLabel("Smoothing", this));
    chartBar->addWidget(smoothing_);
    chartBar->addWidget(smoothingLabel_);
    chartBar->addWidget(new QLabel("X axis", this));
    chartBar->addWidget(xAxis_);
    chartBar->addWidget(outliers_);
    chartBar->addWidget(logY_);
    chartBar->addWidget(rectZoom_);
    chartBar->addWidget(syncX_);
    chartBar->addWidget(legend_);
    chartBar->addWidget(fitBtn);
    chartBar->addStretch(1);
    chartBar->addWidget(filter_);

    // Knobs.
    auto* knobs = new QGroupBox("Hot edits (while paused)", this);
    lambda_ = makeKnobSpinBox(distill::knob("lambda"), knobs);
    lr_ = makeKnobSpinBox(distill::knob("lr"), knobs);
    temperature_ = makeKnobSpinBox(distill::knob("temperature"), knobs);
    applyKnobs_ = new QPushButton("Apply", knobs);
    auto* kl = new QHBoxLayout(knobs);
    kl->addWidget(new QLabel("λ", knobs));
    kl->addWidget(lambda_);
    kl->addWidget(new QLabel("lr", knobs));
    kl->addWidget(lr_);
    kl->addWidget(new QLabel("temperature", knobs));
    kl->addWidget(temperature_);
    kl->addWidget(applyKnobs_);
    kl->addStretch(1);

    gridHost_ = new QWidget(this);
    grid_ = new QGridLayout(gridHost_);
    grid_->setContentsMargins(0, 0, 0, 0);
    scroll_ = new QScrollArea(this);
    scroll_->setWidget(gridHost_);
    scroll_->setWidgetResizable(true);
    scroll_->viewport()->installEventFilter(this);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(chartBar);
    layout->addWidget(knobs);
    rankTimes_ = new RankTimesPanel(metrics_, this);
    layout->addWidget(rankTimes_);
    layout->addWidget(scroll_, 1);

    auto updateOptions = [this] {
        options_.smoothing = smoothing_->value() / 100.0;
        options_.xAxis = XAxisKind(xAxis_->currentData().toInt());
        options_.ignoreOutliers = outliers_->isChecked();
        options_.logY = logY_->isChecked();
        options_.rectZoom = rectZoom_->isChecked();
        options_.showLegend = legend_->isChecked();
        smoothingLabel_->setText(QString::number(options_.smoothing, 'f', 2));
        toggleLogY_->setChecked(options_.logY);
        for (auto* c : charts_) c->setOptions(options_);
        for (auto& c : extraCharts_)
            if (c) c->setOptions(options_);
    };
    connect(smoothing_, &QSlider::valueChanged, this, updateOptions);
    connect(xAxis_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, updateOptions);
    connect(outliers_, &QCheckBox::toggled, this, updateOptions);
    connect(logY_, &QCheckBox::toggled, this, updateOptions);
    connect(rectZoom_, &QCheckBox::toggled, this, updateOptions);
    connect(legend_, &QCheckBox::toggled, this, updateOptions);
    connect(filter_, &QLineEdit::textChanged, this, [this] { layoutCharts(); });
    connect(toggleLogY_, &QAction::triggered, logY_, &QCheckBox::setChecked);
    connect(fit_, &QAction::triggered, this, [this] {
        for (auto* c : charts_) c->fitToData();
        for (auto& c : extraCharts_)
            if (c) c->fitToData();
    });
    connect(zoomReset, &QAction::triggered, fit_, &QAction::trigger);

    connect(start_, &QAction::triggered, this, [this] {
        // A run that has ended (finished, stopped, cancelled, failed) cannot start again: Start then
        // means "a new run" (a stopped run is resumed from the run history).
        const RunState s = control_ ? control_->state() : RunState::Idle;
        const bool ended = s == RunState::Finished || s == RunState::Stopped || s == RunState::Cancelled || s == RunState::Failed;
        if (!control_ || ended) emit newRunRequested();
        else bridge_->start();
    });
    connect(pause_, &QAction::triggered, bridge_, &RunBridge::pause);
    connect(resume_, &QAction::triggered, bridge_, &RunBridge::resume);
    connect(stop_, &QAction::triggered, bridge_, &RunBridge::stop);
    connect(cancel_, &QAction::triggered, this, [this] {
        if (QMessageBox::question(this, "Cancel run", "Cancel the run and discard its folder?") == QMessageBox::Yes)
            bridge_->cancel();
    });
    connect(applyKnobs_, &QPushButton::clicked, this, &RunMonitorWidget::applyKnobs);

    connect(bridge_, &RunBridge::stepReceived, this, &RunMonitorWidget::onStep);
    connect(bridge_, &RunBridge::stateChanged, this, &RunMonitorWidget::onState);
    connect(bridge_, &RunBridge::tokensReceived, this, [this](const TokenDivergenceBatch& b) { tokens_->add(b); });
    connect(bridge_, &RunBridge::logReceived, this, [this](LogLevel l, const QString& m) { log_->append(l, m); });
    connect(bridge_, &RunBridge::checkpointSaved, this, [this](qint64 step, const QString& f) {
        log_->append(LogLevel::Info, QString("checkpoint at step %1: %2").arg(step).arg(f));
        addMark(RunMarkKind::Checkpoint, double(step));
    });
    connect(bridge_, &RunBridge::planChanged, this, [this](qint64 n) {
        maxSteps_ = n;
        updateProgress();
    });
    connect(bridge_, &RunBridge::commandFailed, this, [this](const QString& what) {
        log_->append(LogLevel::Error, what);
        QMessageBox* box = new QMessageBox(QMessageBox::Warning, "Run", what, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setModal(false);
        box->show();
    });
    connect(metrics_, &MetricStore::layoutChanged, this, &RunMonitorWidget::buildCharts);

    // At most 10 Hz per chart, and one chart per event-loop pass: a replot costs milliseconds, and
    // replotting ~40 charts back to back blocked the GUI thread for hundreds of milliseconds while a
    // run trained (tests/bench/bench-widgets.sh). The tick queues the charts; drawTimer_ draws one
    // chart per pass, so input and other timers get in between.
    redraw_ = new QTimer(this);
    redraw_->setInterval(100);
    drawTimer_ = new QTimer(this);
    drawTimer_->setInterval(0);
    connect(redraw_, &QTimer::timeout, this, [this] {
        for (auto* c : charts_)
            if (!drawQueue_.contains(c)) drawQueue_ << c;
        for (auto& c : extraCharts_)
            if (c && !drawQueue_.contains(c.data())) drawQueue_ << c.data();
        if (!drawQueue_.isEmpty() && !drawTimer_->isActive()) drawTimer_->start();
        updateProgress();
        rankTimes_->showRun(rankTimesRun());
    });
    connect(drawTimer_, &QTimer::timeout, this, [this] {
        while (!drawQueue_.isEmpty()) {
            const QPointer<MetricChart> c = drawQueue_.takeFirst();
            if (c && c->refresh()) break;  // skips (without a pass) charts that are hidden or unchanged
        }
        if (drawQueue_.isEmpty()) drawTimer_->stop();
    });
    redraw_->start();
    sinceStep_.start();
    buildCharts();
    updateControls();
    updateProgress();
}

RunMonitorWidget::~RunMonitorWidget() {
    // The run stops (step and checkpoint finished) and is joined by retired_, whose destructor
    // is the one wait left: at shut-down.
    if (control_) bridge_->detach();
    retired_.retire(std::move(control_));
}

void RunMonitorWidget::setRun(std::unique_ptr<RunControl> control, const QString& runId) {
    if (control_) bridge_->detach();
    retired_.retire(std::move(control_));  // stops a live run on its own thread; never waits here
    control_ = std::move(control);
    runId_ = runId;
    step_ = 0;
    elapsedS_ = 0;
    meanInterval_ms_ = 0;
    lastState_ = RunState::Idle;
    for (double& v : inForce_) v = qQNaN();  // the main window sets the new run's
    bridge_->attach(control_.get());
    if (control_) log_->append(LogLevel::Info, QString("opened run %1 (%2)").arg(runId, QString::fromStdString(control_->runDir())));
    onState(control_ ? control_->state() : RunState::Idle, {});
}

void RunMonitorWidget::setShownRuns(const QStringList& runIds) {
    shownRuns_ = runIds;
    for (auto* c : charts_) c->setRuns(runIds);
}

void RunMonitorWidget::addShownRun(const QString& runId) {
    QStringList runs = shownRuns_.isEmpty() ? metrics_->runs() : shownRuns_;
    runs.removeAll(runId);
    runs << runId;
    while (runs.size() > kMaxShownRuns) runs.removeFirst();
    setShownRuns(runs);
}

void RunMonitorWidget::addMark(RunMarkKind kind, double step, const QString& text) {
    if (runId_.isEmpty()) return;
    RunMark m;
    m.kind = kind;
    m.step = step;
    m.wallS = elapsedS_;
    m.unixS = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    if (const MetricSeries* s = metrics_->series(runId_, "loss")) {
        for (size_t i = 0; i < s->step.size(); ++i)
            if (s->step[i] == step) {
                m.wallS = s->wallS[i];
                m.unixS = s->unixS[i];
            }
    }
    m.text = text;
    metrics_->addMark(runId_, m);
}

QWidget* RunMonitorWidget::chartArea() const { return scroll_; }

void RunMonitorWidget::setChartFilter(const QString& pattern) { filter_->setText(pattern); }

bool RunMonitorWidget::eventFilter(QObject* watched, QEvent* event) {
    if (watched == scroll_->viewport() && event->type() == QEvent::Resize) {
        const int cols = std::max(1, static_cast<QResizeEvent*>(event)->size().width() / kChartMinWidth);
        if (cols != columns_) {
            columns_ = cols;
            // After the resize is handled: re-gridding inside it would resize the viewport again.
            QTimer::singleShot(0, this, &RunMonitorWidget::layoutCharts);
        }
    }
    return QWidget::eventFilter(watched, event);
}

void RunMonitorWidget::layoutCharts() {
    const QString text = filter_->text().trimmed();
    QRegularExpression re(text, QRegularExpression::CaseInsensitiveOption);
    const bool literal = !re.isValid();
    auto matches = [&](MetricChart* c) {
        if (text.isEmpty()) return true;
        QStringList names = c->group().keys;
        names << c->group().title;
        for (const QString& n : names)
            if (literal ? n.contains(text, Qt::CaseInsensitive) : re.match(n).hasMatch()) return true;
        return false;
    };
    filter_->setStyleSheet(literal ? "QLineEdit{border:1px solid #c62828}" : QString());
    QList<MetricChart*> order;
    for (auto* c : charts_)
        if (c->isPinned()) order << c;
    for (auto* c : charts_)
        if (!c->isPinned()) order << c;
    for (auto* c : charts_) grid_->removeWidget(c);
    int i = 0;
    for (auto* c : order) {
        const bool show = c->isPinned() || matches(c);
        if (show) {
            grid_->addWidget(c, i / columns_, i % columns_);
            ++i;
            // A chart the filter hid comes back; a new one is shown by the layout, as before.
            if (c->isHidden() && c->testAttribute(Qt::WA_WState_ExplicitShowHide)) c->show();
        } else {
            c->hide();
        }
    }
    for (int col = 0; col < grid_->columnCount(); ++col) grid_->setColumnStretch(col, col < columns_ ? 1 : 0);
}

void RunMonitorWidget::setChartOptions(const ChartOptions& o) {
    smoothing_->setValue(int(std::lround(o.smoothing * 100)));
    xAxis_->setCurrentIndex(xAxis_->findData(int(o.xAxis)));
    outliers_->setChecked(o.ignoreOutliers);
    logY_->setChecked(o.logY);
    rectZoom_->setChecked(o.rectZoom);
}

void RunMonitorWidget::setRedrawInterval(int ms) { redraw_->setInterval(ms); }

void RunMonitorWidget::redrawNow() {
    for (auto* c : charts_) c->refresh(true);
    updateProgress();
    rankTimes_->showRun(rankTimesRun());
}

QString RunMonitorWidget::rankTimesRun() const {
    const QString rank0 = rankStepKey(0);
    if (!runId_.isEmpty() && metrics_->series(runId_, rank0)) return runId_;
    const QStringList runs = shownRuns_.isEmpty() ? metrics_->runs() : shownRuns_;
    for (auto it = runs.crbegin(); it != runs.crend(); ++it)
        if (metrics_->series(*it, rank0)) return *it;
    return {};
}

void RunMonitorWidget::buildCharts() {
    const auto groups = defaultChartGroups(metrics_->keys());
    QStringList have;
    for (auto* c : charts_) have << c->group().title;
    QStringList want;
    for (const auto& g : groups) want << g.title;
    bool same = have == want;
    if (same)
        for (int i = 0; i < charts_.size(); ++i)
            if (charts_[i]->group().keys != groups[i].keys) same = false;
    if (same) return;
    for (auto* c : charts_) c->deleteLater();
    charts_.clear();
    for (const auto& g : groups) {
        auto* c = new MetricChart(metrics_, g, gridHost_);
        c->setOptions(options_);
        c->setRuns(shownRuns_);
        c->setMinimumHeight(220);
        connect(c, &MetricChart::xRangeEdited, this, [this, c](double lo, double hi) {
            if (!syncX_->isChecked()) return;
            for (auto* o : charts_)
                if (o != c) o->setXRange(lo, hi);
        });
        connect(c, &MetricChart::fullSizeRequested, this, [this](MetricChart* src) {
            auto* dlg = new QDialog(this);
            dlg->setAttribute(Qt::WA_DeleteOnClose);
            dlg->setWindowTitle(src->group().title);
            auto* big = new MetricChart(metrics_, src->group(), dlg);
            big->setOptions(options_);
            big->setRuns(shownRuns_);
            auto* l = new QVBoxLayout(dlg);
            l->addWidget(big);
            dlg->resize(1100, 650);
            extraCharts_ << big;
            dlg->show();
        });
        connect(c, &MetricChart::pinToggled, this, [this] { layoutCharts(); });
        charts_ << c;
    }
    layoutCharts();
}

void RunMonitorWidget::onStep(const StepMetrics& m) {
    metrics_->append(runId_, m);
    if (step_ > 0) {
        const double dt = double(sinceStep_.restart());
        meanInterval_ms_ = meanInterval_ms_ == 0 ? dt : 0.8 * meanInterval_ms_ + 0.2 * dt;
    } else {
        sinceStep_.restart();
    }
    step_ = m.step;
    elapsedS_ = m.wall_time_s;
    auto find = [&](const char* k) {
        auto it = m.scalars.find(k);
        return it == m.scalars.end() ? qQNaN() : it->second;
    };
    const double tps = find("tokens_per_s");
    if (std::isfinite(tps)) tokensPerS_ = tps;
    const double mem = find("gpu_mem_gb");
    if (std::isfinite(mem)) gpuMemGb_ = mem;
}

void RunMonitorWidget::onState(RunState state, const QString& reason) {
    const RunState before = std::exchange(lastState_, state);
    if (state == RunState::Paused && before != RunState::Paused) addMark(RunMarkKind::Pause, double(step_));
    if (state == RunState::Running && (before == RunState::Paused || before == RunState::Pausing))
        addMark(RunMarkKind::Resume, double(step_));
    badge_->setText(runStateName(state));
    badge_->setStyleSheet(badgeStyle(state));
    if (!reason.isEmpty()) log_->append(state == RunState::Failed ? LogLevel::Error : LogLevel::Info,
                                        QString("%1: %2").arg(runStateName(state), reason));
    // Offer the values in force (not a step's logged values: a scheduled lr, or one from before an edit).
    if (state == RunState::Paused && control_) showKnobsInForce();
    updateControls();
    emit runStateChanged(state);
}

void RunMonitorWidget::updateControls() {
    const RunState s = bridge_->control() ? bridge_->state() : RunState::Idle;
    const bool live = s == RunState::Running || s == RunState::Pausing || s == RunState::Paused;
    start_->setEnabled(!live);
    pause_->setEnabled(s == RunState::Running);
    resume_->setEnabled(s == RunState::Paused);
    stop_->setEnabled(live);
    cancel_->setEnabled(live);
    applyKnobs_->setEnabled(s == RunState::Paused);
    for (auto* w : {static_cast<QWidget*>(lambda_), static_cast<QWidget*>(lr_), static_cast<QWidget*>(temperature_)})
        w->setEnabled(s == RunState::Paused);
}

void RunMonitorWidget::applyKnobs() {
    // The mark names what changed, from the last step's values ("lr 0.0001→5e-05").
    QStringList changed;
    for (auto [name, box] : {std::pair{"lambda", lambda_}, std::pair{"lr", lr_}, std::pair{"temperature", temperature_}}) {
        // The value in force (the run's config or its last accepted edit), else the last step's.
        const int k = name == QString("lambda") ? 0 : name == QString("lr") ? 1 : 2;
        const MetricSeries* s = metrics_->series(runId_, name);
        const double was = std::isfinite(inForce_[k]) ? inForce_[k] : s && !s->value.empty() ? s->value.back() : qQNaN();
        if (!(was == box->value()))
            changed << QString("%1 %2→%3").arg(name == QString("lambda") ? QString::fromUtf8("λ") : QString(name))
                           .arg(was, 0, 'g', 4)
                           .arg(box->value(), 0, 'g', 4);
    }
    const bool ok = bridge_->setKnob("lambda", lambda_->value()) && bridge_->setKnob("lr", lr_->value()) &&
                    bridge_->setKnob("temperature", temperature_->value());
    if (ok && !changed.isEmpty()) addMark(RunMarkKind::HotEdit, double(step_), changed.join(", "));
    if (ok) setKnobsInForce(lambda_->value(), lr_->value(), temperature_->value());
    if (ok)
        log_->append(LogLevel::Info, QString("hot edit: lambda=%1 lr=%2 temperature=%3")
                                         .arg(lambda_->value())
                                         .arg(lr_->value())
                                         .arg(temperature_->value()));
}

void RunMonitorWidget::updateProgress() {
    progress_->setRange(0, int(std::max<qint64>(1, maxSteps_)));
    progress_->setValue(int(std::min(step_, std::max<qint64>(1, maxSteps_))));
    const double eta = step_ > 0 && maxSteps_ > step_ ? elapsedS_ / double(step_) * double(maxSteps_ - step_) : qQNaN();
    progressLabel_->setText(QString("step %1/%2 · elapsed %3 · ETA %4 · %5 tok/s · GPU mem %6")
                                .arg(step_)
                                .arg(maxSteps_ > 0 ? QString::number(maxSteps_) : "?")
                                .arg(hms(elapsedS_), hms(eta))
                                .arg(std::isfinite(tokensPerS_) ? QString::number(tokensPerS_, 'f', 0) : "–")
                                .arg(std::isfinite(gpuMemGb_) ? QString::number(gpuMemGb_, 'f', 1) + " GB" : "n/a (CPU)"));
    const bool running = bridge_->control() && bridge_->state() == RunState::Running;
    const bool isStalled = running && meanInterval_ms_ > 0 && sinceStep_.elapsed() > std::max(5000.0, 5 * meanInterval_ms_);
    stalled_->setText(isStalled ? QString("stalled? no step for %1 s").arg(sinceStep_.elapsed() / 1000) : QString());
}

void RunMonitorWidget::setKnobsInForce(double lambda, double lr, double temperature) {
    inForce_[0] = lambda;
    inForce_[1] = lr;
    inForce_[2] = temperature;
    showKnobsInForce();
}

void RunMonitorWidget::showKnobsInForce() {
    QDoubleSpinBox* fields[] = {lambda_, lr_, temperature_};
    static const char* names[] = {"lambda", "lr", "temperature"};
    for (int i = 0; i < 3; ++i) {
        if (std::isfinite(inForce_[i])) {
            fields[i]->setValue(inForce_[i]);
            continue;
        }
        // A run whose config the window did not give (a scripted run): its last logged value.
        const MetricSeries* series = metrics_->series(runId_, names[i]);
        if (series && !series->value.empty() && std::isfinite(series->value.back())) fields[i]->setValue(series->value.back());
    }
}

double RunMonitorWidget::knobFieldValue(const QString& name) const {
    if (name == "lambda") return lambda_->value();
    if (name == "lr") return lr_->value();
    if (name == "temperature") return temperature_->value();
    return qQNaN();
}

QString RunMonitorWidget::progressText() const { return progressLabel_->text(); }
QString RunMonitorWidget::badgeText() const { return badge_->text(); }

}  // namespace xopd::widgets

#include "widgets/main/LaunchScriptPanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

#include <exception>
#include <stdexcept>

namespace xopd::widgets {

namespace {
QSpinBox* spin(QWidget* parent, int lo, int hi, int value, const QString& tip) {
    auto* s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setToolTip(tip);
    return s;
}
QWidget* row(QWidget* parent, const QList<QWidget*>& widgets) {
    auto* w = new QWidget(parent);
    auto* l = new QHBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 0);
    for (QWidget* x : widgets) l->addWidget(x);
    l->addStretch(1);
    return w;
}
}  // namespace

LaunchScriptPanel::LaunchScriptPanel(std::function<distill::DistillConfig()> config, QWidget* parent)
    : QGroupBox("Launch script (data parallel: torchrun, Slurm)", parent), config_(std::move(config)) {
    runDir_ = new QLineEdit(this);
    runDir_->setPlaceholderText("run folder on storage every node sees, e.g. /shared/runs/r1");
    runDir_->setToolTip("The run folder (an absolute path, the same on every node): the script writes the run's config "
                        "there and rank 0 writes the run into it");
    auto* browse = new QPushButton("Browse…", this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, "Shared folder for the run", runDir_->text());
        if (!d.isEmpty()) runDir_->setText(QDir(d).filePath("run"));
    });
    kind_ = new QComboBox(this);
    kind_->addItem("torchrun (this machine)", int(run::LaunchKind::Torchrun));
    kind_->addItem("Slurm sbatch (several machines)", int(run::LaunchKind::Sbatch));
    nodes_ = spin(this, 1, 100000, 1, "Machines (sbatch --nodes)");
    procs_ = spin(this, 1, 1024, 2, "Ranks per machine (torchrun --nproc_per_node, sbatch --ntasks-per-node)");
    gpus_ = spin(this, 0, 1024, 0, "GPUs per machine (sbatch --gpus-per-node; 0 = not asked for)");
    port_ = spin(this, 1, 65535, 29500, "Rendezvous port on the first machine (MASTER_PORT)");
    time_ = new QLineEdit(this);
    time_->setPlaceholderText("24:00:00");
    time_->setToolTip("sbatch --time (empty = the partition's default); a later start resumes the run");
    time_->setMaximumWidth(100);
    serve_ = new QCheckBox("Start a teacher server first (xopd serve)", this);
    serve_->setToolTip("The teacher runs as an HTTP server the ranks query (--teacher-url) instead of in every rank");
    teacherDir_ = new QLineEdit(this);
    teacherDir_->setPlaceholderText("teacher model folder");
    teacherHost_ = new QLineEdit(this);
    teacherHost_->setPlaceholderText("127.0.0.1 / 0.0.0.0");
    teacherHost_->setToolTip("Address the server binds (empty: 127.0.0.1 under torchrun, 0.0.0.0 under Slurm); beyond "
                             "127.0.0.1 a key is required");
    teacherHost_->setMaximumWidth(120);
    teacherPort_ = spin(this, 1, 65535, 8000, "The teacher server's port");
    keyEnv_ = new QLineEdit(this);
    keyEnv_->setPlaceholderText("TEACHER_KEY");
    keyEnv_->setToolTip("Environment variable holding the server's key, set before starting the script (the key is never "
                        "written into it)");
    keyEnv_->setMaximumWidth(140);
    export_ = new QPushButton("Export launch script…", this);
    export_->setToolTip("Write the run as a bash script for torchrun or sbatch (mode 0755)");
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* f = new QFormLayout(this);
    auto* dirRow = new QWidget(this);
    auto* dl = new QHBoxLayout(dirRow);
    dl->setContentsMargins(0, 0, 0, 0);
    dl->addWidget(runDir_, 1);
    dl->addWidget(browse);
    f->addRow("Shared run folder", dirRow);
    f->addRow("Launcher", row(this, {kind_, new QLabel("nodes", this), nodes_, new QLabel("ranks/node", this), procs_,
                                     new QLabel("GPUs/node", this), gpus_}));
    f->addRow("Rendezvous port", row(this, {port_, new QLabel("time limit", this), time_}));
    f->addRow(serve_);
    auto* serverRow = new QWidget(this);
    auto* sl = new QHBoxLayout(serverRow);
    sl->setContentsMargins(0, 0, 0, 0);
    sl->addWidget(teacherDir_, 1);
    for (QWidget* w : QList<QWidget*>{new QLabel("host", this), teacherHost_, new QLabel("port", this), teacherPort_,
                                      new QLabel("key variable", this), keyEnv_})
        sl->addWidget(w);
    f->addRow("Teacher server", serverRow);
    f->addRow(row(this, {export_}));
    f->addRow(status_);

    connect(kind_, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &LaunchScriptPanel::updateEnabled);
    connect(serve_, &QCheckBox::toggled, this, [this](bool on) {
        if (on && teacherDir_->text().trimmed().isEmpty()) teacherDir_->setText(defaultTeacherFolder());
        updateEnabled();
    });
    connect(export_, &QPushButton::clicked, this, [this] {
        const bool sbatch = run::LaunchKind(kind_->currentData().toInt()) == run::LaunchKind::Sbatch;
        const QString dir = runDir_->text().trimmed();
        const QString suggested = dir.isEmpty() ? QDir::home().filePath(sbatch ? "xopd-run.sbatch" : "xopd-run.sh")
                                                : QFileInfo(dir).absolutePath() + "/" + QFileInfo(dir).fileName() +
                                                      (sbatch ? ".sbatch" : ".torchrun.sh");
        const QString path = QFileDialog::getSaveFileName(this, "Export launch script", suggested,
                                                          "Shell scripts (*.sh *.sbatch);;All files (*)");
        if (!path.isEmpty()) exportTo(path);
    });
    updateEnabled();
}

void LaunchScriptPanel::setRunFolder(const QString& dir) { runDir_->setText(dir); }
void LaunchScriptPanel::setKind(run::LaunchKind kind) { kind_->setCurrentIndex(kind_->findData(int(kind))); }
void LaunchScriptPanel::setRanks(int nodes, int procsPerNode, int gpusPerNode) {
    nodes_->setValue(nodes);
    procs_->setValue(procsPerNode);
    gpus_->setValue(gpusPerNode);
}
void LaunchScriptPanel::setMasterPort(int port) { port_->setValue(port); }
void LaunchScriptPanel::setTeacherServer(const QString& model, const QString& host, int port, const QString& keyEnv) {
    teacherDir_->setText(model);
    teacherHost_->setText(host);
    teacherPort_->setValue(port);
    keyEnv_->setText(keyEnv);
    serve_->setChecked(!model.isEmpty());
}

QString LaunchScriptPanel::defaultTeacherFolder() const {
    const distill::DistillConfig c = config_();
    switch (c.teacher.kind) {
        case distill::ModelSourceKind::Hf: return QString::fromStdString(c.teacher.path);
        case distill::ModelSourceKind::Demo: return c.teacher.path.empty() ? QString() : QDir(QString::fromStdString(c.teacher.path)).filePath("teacher");
        default: return {};
    }
}

void LaunchScriptPanel::updateEnabled() {
    const bool sbatch = run::LaunchKind(kind_->currentData().toInt()) == run::LaunchKind::Sbatch;
    nodes_->setEnabled(sbatch);
    gpus_->setEnabled(sbatch);
    time_->setEnabled(sbatch);
    if (!sbatch) nodes_->setValue(1);
    for (QWidget* w : QList<QWidget*>{teacherDir_, teacherHost_, teacherPort_, keyEnv_}) w->setEnabled(serve_->isChecked());
}

run::LaunchScriptOptions LaunchScriptPanel::options() const {
    run::LaunchScriptOptions o;
    o.kind = run::LaunchKind(kind_->currentData().toInt());
    o.run_dir = runDir_->text().trimmed().toStdString();
    o.nodes = nodes_->value();
    o.procs_per_node = procs_->value();
    o.gpus_per_node = gpus_->value();
    o.master_port = port_->value();
    o.time_limit = time_->text().trimmed().toStdString();
    if (serve_->isChecked()) {
        o.teacher.model_dir = teacherDir_->text().trimmed().toStdString();
        o.teacher.host = teacherHost_->text().trimmed().toStdString();
        o.teacher.port = teacherPort_->value();
        o.teacher.api_key_env = keyEnv_->text().trimmed().toStdString();
    }
    return o;
}

QString LaunchScriptPanel::exportTo(const QString& path) {
    const run::LaunchScriptOptions o = options();
    try {
        if (serve_->isChecked() && o.teacher.model_dir.empty())
            throw std::runtime_error("launch script: give the teacher server's model folder");
        run::writeLaunchScript(path.toStdString(), run::launchScript(config_(), o));
    } catch (const std::exception& e) {
        const QString why = QString::fromUtf8(e.what());
        status_->setStyleSheet("color:#c62828");
        status_->setText(why);
        return why;
    }
    status_->setStyleSheet({});
    status_->setText(QString("Wrote %1 (%2, %3 ranks, run folder %4)")
                         .arg(path, run::launchKindName(o.kind))
                         .arg(o.nodes * o.procs_per_node)
                         .arg(QString::fromStdString(o.run_dir)));
    emit exported(path);
    return {};
}

QString LaunchScriptPanel::statusText() const { return status_->text(); }

}  // namespace xopd::widgets

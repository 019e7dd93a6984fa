#pragma once
// The set-up screen's "Launch script" box: exports the configured run as a bash script that runs it
// as a data-parallel job (core/run/LaunchScript.h): torchrun on one machine or sbatch (Slurm)
// across machines, with the run folder on storage every node sees, optionally starting a teacher
// server (`xopd serve`) first. The script writes the run's config into that folder when it starts.
// "Export launch script…" asks for the file (a save dialog) and writes it atomically, mode 0755; a
// problem (a relative run folder, too few sampling groups for the ranks, a teacher server beyond
// 127.0.0.1 without a key, …) is shown under the button and nothing is written. GUI thread only.

#include "core/distill/DistillConfig.h"
#include "core/run/LaunchScript.h"

#include <QGroupBox>

#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace xopd::widgets {

class LaunchScriptPanel : public QGroupBox {
    Q_OBJECT
public:
    /// `config` gives the run's config (the set-up screen's fields) when a script is exported.
    explicit LaunchScriptPanel(std::function<distill::DistillConfig()> config, QWidget* parent = nullptr);

    void setRunFolder(const QString& dir);
    void setKind(run::LaunchKind kind);
    void setRanks(int nodes, int procsPerNode, int gpusPerNode = 0);
    void setMasterPort(int port);
    /// A teacher server started first (`model` "" = none); the key variable may be "".
    void setTeacherServer(const QString& model, const QString& host, int port, const QString& keyEnv);
    /// The options the fields describe.
    run::LaunchScriptOptions options() const;
    /// Writes the script to `path`; returns "" on success, else the reason (also shown).
    QString exportTo(const QString& path);
    /// The line under the button ("Wrote …" or the problem; tests).
    QString statusText() const;
    QPushButton* exportButton() const { return export_; }

signals:
    /// A script was written to `path`.
    void exported(const QString& path);

private:
    void updateEnabled();
    /// The teacher folder of the current config, for the server field ("" for the toy teacher).
    QString defaultTeacherFolder() const;

    std::function<distill::DistillConfig()> config_;
    QLineEdit* runDir_;
    QComboBox* kind_;
    QSpinBox* nodes_;
    QSpinBox* procs_;
    QSpinBox* gpus_;
    QSpinBox* port_;
    QLineEdit* time_;
    QCheckBox* serve_;
    QLineEdit* teacherDir_;
    QLineEdit* teacherHost_;
    QSpinBox* teacherPort_;
    QLineEdit* keyEnv_;
    QPushButton* export_;
    QLabel* status_;
};

}  // namespace xopd::widgets

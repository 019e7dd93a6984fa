// Issue 13 point 5 in the workbench:
//  - the set-up screen's "Export launch script…" button (its save dialog answered) writes an
//    executable script that `bash -n` accepts, equal to core's launchScript() for the screen's
//    config, whose embedded config is exactly that config and whose run folder (spaces, quotes)
//    is quoted; a bad set-up (relative run folder, too many ranks for the batch, a served toy
//    teacher) writes nothing and says why;
//  - the monitor shows a recorded data-parallel run (a metrics.sqlite written by core's RunStore
//    with the per-rank step times rank 0 records, read back as the window's "open run" reads it):
//    "World size: 2", both ranks' step times with the slowest highlighted, and a chart with a line
//    per rank; resumed at one rank the world size follows; a single-process run shows no panel.
#include "core/distill/DistillConfig.h"
#include "core/distill/RankStepTimes.h"
#include "core/run/LaunchScript.h"
#include "core/run/RunStore.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/main/LaunchScriptPanel.h"
#include "widgets/main/RunFolderLoader.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/run/LogPanel.h"
#include "widgets/run/RankTimesPanel.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/tokens/TokenStore.h"

#include <QApplication>
#include <QFileDialog>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

using namespace xopd;
using namespace xopd::widgets;

namespace {

/// Answers the next modal file dialog with `path` (polls until it is open).
void answerFileDialog(const QString& path) {
    auto* timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, path] {
        auto* d = qobject_cast<QFileDialog*>(QApplication::activeModalWidget());
        if (!d) return;
        timer->stop();
        timer->deleteLater();
        // As a user does: type the file's name into the dialog's name field.
        auto* name = d->findChild<QLineEdit*>("fileNameEdit");
        if (name) name->setText(path);
        else d->selectFile(path);
        QMetaObject::invokeMethod(d, "accept");  // QDialog's slot (QFileDialog's override is protected)
    });
    timer->start();
}

QString readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

/// The rank step times of the fixture: rank 1 slower than rank 0 by 30 % on average.
std::vector<double> rankTimes(int step) { return {0.40 + 0.01 * (step % 3), 0.52 + 0.01 * (step % 2)}; }

}  // namespace

class TestLaunchExport : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void exportButtonWritesTheScript() {
        RunSetupWidget setup;
        setup.setSource(RunSetupWidget::Source::Toy);
        setup.setMaxSteps(12);
        LaunchScriptPanel* panel = setup.launchPanel();
        QVERIFY(panel);
        const QString runDir = tmp_.filePath("shared runs/it's \"r1\"");
        panel->setRunFolder(runDir);
        panel->setKind(run::LaunchKind::Torchrun);
        panel->setRanks(1, 2);
        const QString path = tmp_.filePath("launch-r1.sh");
        QSignalSpy exported(panel, &LaunchScriptPanel::exported);
        answerFileDialog(path);
        QTest::mouseClick(panel->exportButton(), Qt::LeftButton);
        QTRY_COMPARE(exported.count(), 1);
        QCOMPARE(exported.at(0).at(0).toString(), path);
        QVERIFY2(panel->statusText().startsWith("Wrote " + path), qPrintable(panel->statusText()));

        const QString text = readAll(path);
        QCOMPARE(text, QString::fromStdString(run::launchScript(setup.config(), panel->options())));
        QVERIFY(QFileInfo(path).permissions() & QFileDevice::ExeOwner);
        QProcess bash;
        bash.start("/bin/bash", {"-n", path});
        QVERIFY(bash.waitForFinished(10000));
        QCOMPARE(bash.exitCode(), 0);
        QVERIFY(text.contains("RUN_DIR='" + tmp_.path() + "/shared runs/it'\\''s \"r1\"'\n"));
        QVERIFY(text.contains("--nproc_per_node 2"));
        // The config the script writes is the screen's, exactly (12 steps, toy models).
        const QString open = "<<'XOPD_RUN_CONFIG'\n", close = "\nXOPD_RUN_CONFIG\n";
        const int a = text.indexOf(open) + open.size(), b = text.indexOf(close);
        QVERIFY(a > open.size() && b > a);
        const auto embedded = nlohmann::json::parse(text.mid(a, b - a).toStdString());
        QCOMPARE(QString::fromStdString(embedded.dump()), QString::fromStdString(distill::toJson(setup.config()).dump()));
        QCOMPARE(embedded.at("train").at("max_steps").get<int>(), 12);

        // Slurm, 2 nodes: the #SBATCH lines follow the fields.
        panel->setKind(run::LaunchKind::Sbatch);
        panel->setRanks(2, 2, 1);
        const QString sbatch = tmp_.filePath("r1.sbatch");
        QVERIFY2(panel->exportTo(sbatch).isEmpty(), qPrintable(panel->statusText()));
        QVERIFY(readAll(sbatch).contains("#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=2\n#SBATCH --gpus-per-node=1\n"));

        // Bad set-ups write nothing and say why.
        const QString bad = tmp_.filePath("bad.sh");
        panel->setKind(run::LaunchKind::Torchrun);
        panel->setRunFolder("runs/r1");
        QVERIFY(panel->exportTo(bad).contains("not an absolute path"));
        QVERIFY(panel->statusText().contains("not an absolute path"));
        panel->setRunFolder(runDir);
        panel->setRanks(1, 16);  // the toy batch is 4 prompts: 4 sampling groups
        QVERIFY(panel->exportTo(bad).contains("too few for 16 ranks"));
        panel->setRanks(1, 2);
        panel->setTeacherServer("/models/teacher", "", 8000, "");
        QVERIFY(panel->exportTo(bad).contains("teacher"));
        QVERIFY(!QFileInfo::exists(bad));
    }

    void monitorShowsWorldSizeAndRankTimes() {
        // A recorded 2-rank run: what rank 0 writes each step (scalars + the ranks' step times).
        const QString dir = tmp_.filePath("dp-run");
        QVERIFY(QDir().mkpath(dir));
        {
            run::RunStore store(dir.toStdString());
            for (int s = 1; s <= 6; ++s) {
                StepMetrics m;
                m.step = s;
                m.wall_time_s = 0.6 * s;
                m.unix_time_s = 1.7e9 + 0.6 * s;
                m.scalars = {{"loss", 1.0 / s}, {"time/step_s", rankTimes(s)[1]}};
                m.json[distill::kRankStepSecondsKey] = distill::rankStepSecondsJson(rankTimes(s));
                store.commitStep(m, {}, {});
            }
        }
        RunFolderRequest request;
        request.id = "dp-run";
        request.dir = dir;
        const RunFolderData data = RunFolderLoader::readNow(request);
        QVERIFY2(data.error.isEmpty(), qPrintable(data.error));
        QCOMPARE(int(data.steps.size()), 6);

        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        monitor.resize(1200, 900);
        monitor.show();
        RankTimesPanel* panel = monitor.rankTimes();
        QVERIFY(panel);
        monitor.redrawNow();
        QVERIFY(!panel->isVisibleTo(&monitor));  // nothing shown yet

        for (const auto& m : data.steps) metrics.append("dp-run", m);
        monitor.addShownRun("dp-run");
        monitor.redrawNow();
        QVERIFY(panel->isVisibleTo(&monitor));
        QCOMPARE(panel->runId(), QString("dp-run"));
        QCOMPARE(panel->worldSize(), 2);
        QCOMPARE(panel->slowestRank(), 1);
        QVERIFY2(panel->summaryText().startsWith("World size: 2"), qPrintable(panel->summaryText()));
        QVERIFY2(panel->summaryText().contains("slowest: rank 1"), qPrintable(panel->summaryText()));
        for (int r = 0; r < 2; ++r) {
            double sum = 0;
            for (int s = 1; s <= 6; ++s) sum += rankTimes(s)[size_t(r)];
            QVERIFY(std::abs(panel->meanSeconds(r) - sum / 6) < 1e-12);
        }
        QTableWidget* table = panel->table();
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(1, 1)->text(), QString::number(rankTimes(6)[1], 'f', 3));
        QVERIFY(table->item(1, 0)->font().bold());
        QVERIFY(!table->item(0, 0)->font().bold());
        QVERIFY(table->item(1, 0)->background().color() != table->item(0, 0)->background().color());
        // The chart of the same series: one line per rank.
        bool chart = false;
        for (auto* c : monitor.charts())
            if (c->group().title == distill::kRankStepSecondsKey) {
                chart = true;
                QCOMPARE(c->group().keys, (QStringList{rankStepKey(0), rankStepKey(1)}));
            }
        QVERIFY(chart);

        // Resumed at one rank: the world size is that of the last step.
        StepMetrics m;
        m.step = 7;
        m.wall_time_s = 5;
        m.scalars = {{"loss", 0.1}};
        m.json[distill::kRankStepSecondsKey] = distill::rankStepSecondsJson({0.3});
        metrics.append("dp-run", m);
        monitor.redrawNow();
        QCOMPARE(panel->worldSize(), 1);
        QVERIFY(panel->summaryText().startsWith("World size: 1"));

        // A single-process run shown alone: no panel.
        StepMetrics single;
        single.step = 1;
        single.scalars = {{"loss", 1.0}};
        metrics.append("plain", single);
        monitor.setShownRuns({"plain"});
        monitor.redrawNow();
        QVERIFY(!panel->isVisibleTo(&monitor));
        QCOMPARE(panel->worldSize(), 0);
    }
};

QTEST_MAIN(TestLaunchExport)
#include "test_launch_export.moc"

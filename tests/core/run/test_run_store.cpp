// Run store: one column per metric, incremental reads while writing, token round trip, delete on
// resume, integrity check; checkpoint folders are atomic and `latest` names the newest.
#include "core/common/Error.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

using namespace xopd;
using namespace xopd::run;
namespace fs = std::filesystem;

namespace {
StepMetrics stepMetrics(int64_t step) {
    StepMetrics m;
    m.step = step;
    m.wall_time_s = double(step);
    m.scalars["loss"] = 1.0 / double(step);
    m.scalars["speech/adv_mean"] = -0.5 * double(step);
    if (step >= 3) m.scalars["text/adv_p90"] = 0.25;  // a column that appears later
    m.scalars["modality_gap_mean"] = std::nan("");
    m.json["speech/position_profile"] = R"({"1_16": 0.5, "17_64": null})";
    return m;
}
TokenDivergenceBatch tokens(int64_t step) {
    TokenDivergenceBatch b;
    b.step = step;
    b.sample_index = 1;
    b.stream = "speech";
    b.prompt_id = "p" + std::to_string(step);
    for (int t = 0; t < 3; ++t) {
        TokenRecord r;
        r.token_id = 10 + t;
        r.text = t == 1 ? " it's" : "x";
        r.position = t;
        r.student_logprob = -1.0f - float(t);
        r.teacher_logprob = -0.5f;
        r.advantage = r.teacher_logprob - r.student_logprob;
        r.student_other_logprob = std::nanf("");
        r.masked = t == 2;
        r.student_topk = {{10, -0.1f}, {11, -2.5f}};
        b.tokens.push_back(r);
    }
    return b;
}
}  // namespace

class TestRunStore : public QObject {
    Q_OBJECT

private slots:
    void writesAndReadsIncrementally() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        RunStore store(d);
        RunReader reader(d);  // opened before any step: a live follower
        QCOMPARE(reader.stepsSince(0).size(), size_t(0));
        for (int64_t s = 1; s <= 2; ++s) {
            SampleRecord sr;
            sr.step = s;
            sr.sample_index = 1;
            sr.stream = "speech";
            sr.prompt_text = "what is two plus two";
            sr.truncated = true;
            store.commitStep(stepMetrics(s), {tokens(s)}, {sr});
        }
        auto first = reader.stepsSince(0);
        QCOMPARE(first.size(), size_t(2));
        for (int64_t s = 3; s <= 5; ++s) store.commitStep(stepMetrics(s), {tokens(s)}, {});
        auto more = reader.stepsSince(first.back().step);
        QCOMPARE(more.size(), size_t(3));
        QCOMPARE(more.front().step, int64_t(3));
        QCOMPARE(more.front().scalars.at("loss"), 1.0 / 3.0);
        QCOMPARE(more.front().scalars.at("text/adv_p90"), 0.25);
        QVERIFY(!more.front().scalars.count("modality_gap_mean"));  // NaN = not measured
        QVERIFY(!first.front().scalars.count("text/adv_p90"));
        QCOMPARE(QString::fromStdString(more.front().json.at("speech/position_profile")), QString(R"({"17_64":null,"1_16":0.5})"));

        const auto toks = reader.tokensSince(1);
        QCOMPARE(toks.size(), size_t(4));
        QCOMPARE(toks.front().step, int64_t(2));
        QCOMPARE(toks.front().tokens.size(), size_t(3));
        QCOMPARE(QString::fromStdString(toks.front().tokens[1].text), QString(" it's"));
        QCOMPARE(QString::fromStdString(toks.front().prompt_text), QString("what is two plus two"));
        QVERIFY(toks.front().truncated);
        QVERIFY(toks.front().tokens[2].masked);
        QVERIFY(std::isnan(toks.front().tokens[0].student_other_logprob));
        QCOMPARE(toks.front().tokens[0].student_topk.size(), size_t(2));
        QCOMPARE(toks.front().tokens[0].student_topk[1].first, 11);

        RunEventRecord e;
        e.kind = "knob";
        e.name = "lambda";
        e.value = 0.3;
        store.addEvent(e);
        const auto ev = reader.eventsSince(0);
        QCOMPARE(ev.size(), size_t(1));
        QCOMPARE(ev.front().value, 0.3);
        QVERIFY(ev.front().pid > 0);
        QVERIFY(reader.eventsSince(ev.front().id).empty());

        store.deleteAfter(3);
        QCOMPARE(reader.lastStep(), int64_t(3));
        QCOMPARE(reader.tokensSince(0).size(), size_t(3));
        QCOMPARE(QString::fromStdString(reader.integrityCheck()), QString("ok"));
    }

    // Run history durations come from the run's own state events (issue 17.5: a run of 11 s showed
    // "56 s", a 1:42 run "11 min 45 s" after a restart, following the metrics file's mtime).
    void runningSecondsFromStateEvents() {
        auto state = [](double t, const char* name) {
            RunEventRecord e;
            e.kind = "state";
            e.name = name;
            e.unix_time_s = t;
            return e;
        };
        RunEventRecord knob;
        knob.kind = "knob";
        knob.unix_time_s = 1130;
        // Ran 100-111 (11 s), paused until 200, ran 200-291 (pausing counts until paused), resumed
        // at 1000 and still running: its last trace is a knob event at 1130 and a step at 1120.
        const std::vector<RunEventRecord> events = {state(100, "running"), state(111, "paused"), state(200, "running"),
                                                    state(280, "pausing"), state(291, "paused"), state(1000, "running"),
                                                    knob};
        QCOMPARE(runningSeconds(events, 1120.0), 11.0 + 91.0 + 130.0);
        QCOMPARE(runningSeconds({state(5, "running"), state(16, "finished")}, 16.0), 11.0);
        QCOMPARE(runningSeconds({state(5, "running"), state(9, "failed")}, 0.0), 4.0);
        QVERIFY(std::isnan(runningSeconds({state(5, "failed")}, 0.0)));  // failed at start: never ran

        // Through listRuns: a finished run of 11 s reads 11 s whatever the files' times say.
        QTemporaryDir root;
        const std::string dir = root.filePath("r1").toStdString();
        fs::create_directories(dir);
        std::ofstream(dir + "/run.json") << R"({"run_id": "r1", "created_unix_s": 1.0})";
        {
            RunStore store(dir);
            store.addEvent(state(50, "running"));
            store.addEvent(state(61, "finished"));
        }
        const auto runs = RunReader::listRuns(root.path().toStdString());
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].running_s, 11.0);
        QCOMPARE(QString::fromStdString(runs[0].state), QString("finished"));
    }

    void walModeIsOn() {
        QTemporaryDir dir;
        RunStore store(dir.path().toStdString());
        store.commitStep(stepMetrics(1), {}, {});
        QVERIFY(QFile::exists(dir.filePath("metrics.sqlite-wal")));
    }

    // A reader that opens metrics.sqlite the moment it appears (as the run history does while a run
    // starts) always finds the schema: the store is created under a temporary name and renamed.
    // Before, the file existed a few milliseconds without its tables ("no such table: meta").
    void aNewStoreIsNeverSeenWithoutItsTables() {
        QTemporaryDir root;
        const int runs = 60;
        std::atomic<bool> done{false};
        std::atomic<int> seen{0};
        std::vector<std::string> problems;
        std::thread reader([&] {
            int next = 0;
            while (next < runs) {
                const std::string dir = root.filePath(QString("run-%1").arg(next)).toStdString();
                const bool writerDone = done.load();  // read before the check, or a last store is missed
                if (!fs::exists(dir + "/metrics.sqlite")) {
                    if (writerDone) break;  // the writer stopped early (a failed check)
                    continue;                // spin: open it as soon as it exists
                }
                try {
                    RunReader r(dir);
                    ++seen;
                } catch (const Error& e) {
                    problems.push_back(e.what());
                }
                ++next;
            }
        });
        for (int i = 0; i < runs; ++i) {
            const std::string dir = root.filePath(QString("run-%1").arg(i)).toStdString();
            fs::create_directories(dir);
            RunStore store(dir);
            QVERIFY(!fs::exists(dir + "/metrics.sqlite.creating"));
        }
        done = true;
        reader.join();
        QVERIFY2(problems.empty(), problems.empty() ? "" : problems.front().c_str());
        QCOMPARE(seen.load() + int(problems.size()), runs);
    }

    // A temporary left by a crash while a store was being created does not stop the next run.
    void aLeftoverTemporaryIsReplaced() {
        QTemporaryDir dir;
        std::ofstream(dir.filePath("metrics.sqlite.creating").toStdString()) << "half a database";
        RunStore store(dir.path().toStdString());
        store.commitStep(stepMetrics(1), {}, {});
        QVERIFY(!QFile::exists(dir.filePath("metrics.sqlite.creating")));
        RunReader r(dir.path().toStdString());
        QCOMPARE(r.stepsSince(0).size(), size_t(1));
    }

    void readerRejectsNonRunFolders() {
        QTemporaryDir dir;
        try {
            RunReader r(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("metrics.sqlite"), e.what());
        }
        std::ofstream(dir.filePath("metrics.sqlite").toStdString()) << "not a database at all, just text";
        try {
            RunReader r(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("metrics.sqlite"), e.what());
        }
    }

    void checkpointsAreAtomicAndPruned() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        QCOMPARE(latestCheckpoint(d), std::string());
        for (int64_t step : {10, 20, 30}) {
            const auto tmp = beginCheckpoint(d, step);
            std::ofstream(tmp + "/weights") << step;
            commitCheckpoint(d, tmp, step, /*keep=*/2);
        }
        QCOMPARE(QString::fromStdString(latestCheckpoint(d)), dir.filePath("checkpoints/step-000030"));
        QCOMPARE(listCheckpoints(d).size(), size_t(2));
        QVERIFY(!QFile::exists(dir.filePath("checkpoints/step-000010")));
        // A crashed write (temp folder left behind, latest untouched) does not count.
        const auto tmp = beginCheckpoint(d, 40);
        std::ofstream(tmp + "/weights") << "half";
        QCOMPARE(QString::fromStdString(latestCheckpoint(d)), dir.filePath("checkpoints/step-000030"));
        // latest lost: the newest complete folder is found anyway.
        std::filesystem::remove(d + "/checkpoints/latest");
        QCOMPARE(QString::fromStdString(latestCheckpoint(d)), dir.filePath("checkpoints/step-000030"));
        QCOMPARE(checkpointStep("step-000123"), int64_t(123));
        QCOMPARE(checkpointStep(".tmp-step-1"), int64_t(-1));
    }

    // One bad folder does not hide the others: a run.json that is an array, one with a number
    // that overflows a double, one with fields of the wrong type, and a link that loops each
    // become a row (the first, second and fourth "unreadable", saying why); the good run is listed.
    void oneBadRunFolderDoesNotHideTheOthers() {
        QTemporaryDir root;
        const auto writeRunJson = [&](const QString& name, const std::string& text) {
            QDir().mkpath(root.filePath(name));
            std::ofstream(root.filePath(name + "/run.json").toStdString()) << text;
        };
        RunFolder(root.filePath("good").toStdString()).create(distill::toyDistillConfig());
        writeRunJson("array", "[1, 2, 3]");
        writeRunJson("overflow", R"({"run_id": "overflow", "created_unix_s": 1e400})");
        writeRunJson("wrong-types", R"({"run_id": 7, "config": {"loss": {"lambda": "half", "method": 3}, "train": []}})");
        QVERIFY(QFile::link(root.filePath("loop"), root.filePath("loop")));  // a symlink to itself

        std::vector<RunSummary> runs;
        try {
            runs = RunReader::listRuns(root.path().toStdString());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("one bad folder failed the whole list: ") + e.what()));
        }
        std::map<std::string, RunSummary> byId;
        for (const auto& r : runs) byId[r.id] = r;
        QCOMPARE(int(byId.size()), 5);
        QCOMPARE(QString::fromStdString(byId["good"].method), QString("x-opd"));
        QVERIFY(byId["good"].problem.empty());
        for (const char* bad : {"array", "overflow", "loop"}) {
            QCOMPARE(QString::fromStdString(byId[bad].state), QString("unreadable"));
            QVERIFY2(QString::fromStdString(byId[bad].problem).contains(QString(bad)), byId[bad].problem.c_str());
        }
        QVERIFY2(QString::fromStdString(byId["array"].problem).contains("not a JSON object"), byId["array"].problem.c_str());
        QVERIFY(byId["wrong-types"].problem.empty());  // read leniently: the fields it can, empty the rest
        QVERIFY(std::isnan(byId["wrong-types"].lambda));
    }
};

QTEST_APPLESS_MAIN(TestRunStore)
#include "test_run_store.moc"

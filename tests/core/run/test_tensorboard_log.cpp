// The run's TensorBoard log (issue 16.4): CRC32C and TFRecord framing, and every run's RUN/tb/
// read back by an independent reader (tests/reference/run/tfevents_check.py: its own CRC32C, the
// framing parsed by hand, python3-protobuf from core/run/proto/*.proto) whose scalars must equal
// metrics.sqlite's exactly after float32 rounding, with hot edits and pause/resume as text; a
// resumed run's recomputed steps replace the old ones; forks and `xopd runs export` (TensorBoard,
// CSV) for older runs; one flipped byte makes the reader fail.
#include "core/common/Error.h"
#include "core/distill/RunModels.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunController.h"
#include "core/run/RunExport.h"
#include "core/run/RunFolder.h"
#include "core/run/RunFork.h"
#include "core/run/RunStore.h"
#include "core/run/TensorBoardWriter.h"
#include "core/run/TfRecordWriter.h"
#include "tests/support/FailedStart.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace xopd;
using namespace xopd::run;
namespace fs = std::filesystem;

namespace {

/// Runs the independent reader on run_dir (and its log in tb_dir when given).
test::ProcessResult checkLog(const std::string& run_dir, const std::string& tb_dir = "") {
    QStringList args{test::sourceDir() + "/tests/reference/run/tfevents_check.py", QString::fromStdString(run_dir)};
    if (!tb_dir.empty()) args << "--tb" << QString::fromStdString(tb_dir);
    return test::runProgram("/usr/bin/python3", args, 120000);
}

nlohmann::json checkOk(const std::string& run_dir, const std::string& tb_dir = "") {
    const auto r = checkLog(run_dir, tb_dir);
    if (r.exitCode != 0) {
        qWarning("%s", qPrintable(r.err));
        return nullptr;
    }
    return nlohmann::json::parse(r.out.toStdString());
}

/// Steps with values that float32 must round (thirds), a NaN ("not measured") and a metric that
/// appears only from step 3 (a column added later).
StepMetrics stepOf(int64_t step, double scale) {
    StepMetrics m;
    m.step = step;
    m.wall_time_s = double(step);
    m.unix_time_s = 1.7e9 + double(step);
    m.scalars["loss"] = scale * (1.0 / 3.0 + double(step));
    m.scalars["speech/adv_mean"] = -scale * std::sqrt(double(step));
    m.scalars["text/adv_mean"] = step == 2 ? std::nan("") : 0.1 * double(step);
    if (step >= 3) m.scalars["time/step_s"] = 1e-3 * double(step) + 1e-9;
    return m;
}

RunEventRecord eventOf(int64_t step, const char* kind, const std::string& name, const std::string& message) {
    RunEventRecord e;
    e.step = step;
    e.kind = kind;
    e.name = name;
    e.value = std::nan("");
    e.message = message;
    return e;
}

std::vector<std::string> eventFiles(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find("tfevents") != std::string::npos) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

class TestTensorBoardLog : public QObject {
    Q_OBJECT

private slots:
    void crc32cAndFraming() {
        // The CRC-32C check value (RFC 3720 B.4's polynomial; "123456789" -> 0xE3069283).
        QCOMPARE(crc32c("123456789", 9), uint32_t(0xE3069283u));
        QCOMPARE(crc32c("", 0), uint32_t(0));
        const uint32_t c = crc32c("abc", 3);
        QCOMPARE(maskedCrc32c("abc", 3), uint32_t(((c >> 15) | (c << 17)) + 0xa282ead8u));
        const std::string frame = tfRecordFrame("hello");
        QCOMPARE(frame.size(), size_t(8 + 4 + 5 + 4));
        QCOMPARE(uint8_t(frame[0]), uint8_t(5));  // little-endian length
        for (int i = 1; i < 8; ++i) QCOMPARE(uint8_t(frame[i]), uint8_t(0));
        QCOMPARE(frame.substr(12, 5), std::string("hello"));
        uint32_t lenCrc = 0, dataCrc = 0;
        for (int i = 0; i < 4; ++i) {
            lenCrc |= uint32_t(uint8_t(frame[8 + i])) << (8 * i);
            dataCrc |= uint32_t(uint8_t(frame[17 + i])) << (8 * i);
        }
        QCOMPARE(lenCrc, maskedCrc32c(frame.data(), 8));
        QCOMPARE(dataCrc, maskedCrc32c("hello", 5));
    }

    void storeWritesTheLogAndAResumeReplacesRecomputedSteps() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        {
            RunStore store(dir);
            store.addEvent(eventOf(0, event_kind::kState, "running", ""));
            for (int64_t s = 1; s <= 5; ++s) store.commitStep(stepOf(s, 1.0), {}, {});
            store.addEvent(eventOf(5, event_kind::kState, "paused", "paused by the user"));
            RunEventRecord knob = eventOf(5, event_kind::kKnob, "lr", "lr: 0.0001 -> 0.0002");
            knob.value = 2e-4;
            store.addEvent(knob);
            store.addEvent(eventOf(5, event_kind::kState, "running", "resumed"));
            store.addEvent(eventOf(5, event_kind::kLog, "info", "not in the log"));
        }
        auto j = checkOk(dir);
        QVERIFY(!j.is_null());
        QCOMPARE(j["files"].get<int>(), 1);
        QCOMPARE(j["tags"].get<int>(), 4);
        QCOMPARE(j["scalars"].get<int>(), 5 + 5 + 4 + 3);  // text/adv_mean is NaN at step 2
        QCOMPARE(j["events_matched"].get<int>(), 4);
        QCOMPARE(j["texts"].get<int>(), 4);  // the log line is left out
        QCOMPARE(j["text_tags"], nlohmann::json({"events/knob", "events/state"}));

        // Resume from a checkpoint at step 3: steps 4 and 5 are recomputed with other values. The
        // new file's START drops the old 4 and 5 (the reader fails on a step written twice otherwise).
        {
            RunStore store(dir);
            store.deleteAfter(3);
            store.addEvent(eventOf(3, event_kind::kResume, "step-000003", "resumed from step-000003"));
            for (int64_t s = 4; s <= 6; ++s) store.commitStep(stepOf(s, 2.0), {}, {});
        }
        j = checkOk(dir);
        QVERIFY(!j.is_null());
        QCOMPARE(j["files"].get<int>(), 2);
        QCOMPARE(j["scalars"].get<int>(), 6 + 6 + 5 + 4);
        QVERIFY(j["text_tags"].dump().find("events/resume") != std::string::npos);
    }

    void aCorruptByteFailsTheReader() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        {
            RunStore store(dir);
            for (int64_t s = 1; s <= 3; ++s) store.commitStep(stepOf(s, 1.0), {}, {});
        }
        QVERIFY(!checkOk(dir).is_null());
        const auto files = eventFiles(dir + "/tb");
        QCOMPARE(files.size(), size_t(1));
        std::string bytes;
        {
            std::ifstream in(files[0], std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        // One bit of the last record's payload (a float of step 3).
        bytes[bytes.size() - 8] = char(bytes[bytes.size() - 8] ^ 0x01);
        {
            std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
            out.write(bytes.data(), std::streamsize(bytes.size()));
        }
        const auto r = checkLog(dir);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("data crc mismatch"), qPrintable(r.err));
        // With the byte restored the log reads again; a stored value 1e-6 off (4 float32 ulps at
        // 2.33) then fails the comparison with metrics.sqlite.
        bytes[bytes.size() - 8] = char(bytes[bytes.size() - 8] ^ 0x01);
        {
            std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
            out.write(bytes.data(), std::streamsize(bytes.size()));
        }
        QVERIFY(!checkOk(dir).is_null());
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open((dir + "/metrics.sqlite").c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "UPDATE steps SET loss = loss + 1e-6 WHERE step = 2", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        const auto r2 = checkLog(dir);
        QCOMPARE(r2.exitCode, 1);
        QVERIFY2(r2.err.contains("'loss' step 2"), qPrintable(r2.err));
    }

    void aRunWritesItsLogWithPausesAndHotEdits() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        RunOptions o;
        o.run_dir = dir;
        RunController c(test::toyRunConfig({6, 16, 10, 4, 2}), o);
        c.start();
        const auto stepsDone = [&] {
            try {
                return RunReader(dir).lastStep();
            } catch (const Error&) {
                return int64_t(0);
            }
        };
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (stepsDone() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        c.pause();
        while (c.state() != RunState::Paused && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        QCOMPARE(c.state(), RunState::Paused);
        c.setKnob("lambda", 0.25);
        c.resume();
        c.wait();
        QCOMPARE(c.state(), RunState::Finished);
        const auto j = checkOk(dir);
        QVERIFY(!j.is_null());
        QVERIFY(j["scalars"].get<int>() > 6 * 5);
        const std::string tags = j["text_tags"].dump();
        QVERIFY2(tags.find("events/knob") != std::string::npos, tags.c_str());
        QVERIFY2(tags.find("events/state") != std::string::npos, tags.c_str());
        QVERIFY2(tags.find("events/checkpoint") != std::string::npos, tags.c_str());
        // Nothing but the event files in tb/.
        for (const auto& e : fs::directory_iterator(dir + "/tb"))
            QVERIFY2(e.path().filename().string().find("events.out.tfevents.") == 0, e.path().c_str());
    }

    // A run that failed to start logs the failure; the corrected run that replaces it starts a clean log.
    void aReplacedFailedStartLeavesNoOldLog() {
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        QCOMPARE(test::runFailedStart(o.run_dir, {2, 16, 10, 4, 2}), RunState::Failed);
        auto j = checkOk(o.run_dir);
        QVERIFY(!j.is_null());
        QCOMPARE(j["scalars"].get<int>(), 0);
        QVERIFY(j["texts"].get<int>() >= 1);  // "failed: ... config.json is missing"
        RunController fixed(test::toyRunConfig({2, 16, 10, 4, 2}), o);
        fixed.start();
        fixed.wait();
        QCOMPARE(fixed.state(), RunState::Finished);
        j = checkOk(o.run_dir);
        QVERIFY(!j.is_null());
        QCOMPARE(j["files"].get<int>(), 1);
        QVERIFY(j["scalars"].get<int>() > 0);
    }

    void exportsForOlderRunsAndForks() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        {
            RunOptions o;
            o.run_dir = dir;
            RunController c(test::toyRunConfig({4, 16, 10, 4, 2}), o);
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Finished);
        }
        // An older run: no tb/. `xopd runs export --format tensorboard` writes it; a second export
        // into a folder with event files is refused.
        fs::remove_all(dir + "/tb");
        auto r = test::runCli({"runs", "export", "--format", "tensorboard", QString::fromStdString(dir)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(!checkOk(dir).is_null());
        r = test::runCli({"runs", "export", "--format", "tensorboard", QString::fromStdString(dir)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("already holds TensorBoard event files"), qPrintable(r.err));
        const std::string out = tmp.filePath("exported").toStdString();
        r = test::runCli({"runs", "export", "--format", "tensorboard", QString::fromStdString(dir), "--out", QString::fromStdString(out)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(!checkOk(dir, out).is_null());
        QVERIFY_EXCEPTION_THROWN(exportTensorBoard(tmp.filePath("nothing").toStdString(), out + "2"), Error);
        QVERIFY(!fs::exists(out + "2"));

        // CSV: one row per step, every stored scalar as %.17g (round-trips the double).
        r = test::runCli({"runs", "export", "--format", "csv", QString::fromStdString(dir), "--out", QString::fromStdString(out)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        std::ifstream csv(out + "/metrics.csv");
        std::string header;
        std::getline(csv, header);
        QVERIFY(header.rfind("step,wall_time_s,unix_time_s,", 0) == 0);
        std::vector<std::string> cols;
        {
            std::stringstream hs(header);
            std::string c;
            while (std::getline(hs, c, ',')) cols.push_back(c);
        }
        const auto steps = RunReader(dir).stepsSince(0);
        QCOMPARE(steps.size(), size_t(4));
        size_t compared = 0;
        for (const auto& s : steps) {
            std::string line;
            QVERIFY(std::getline(csv, line));
            std::vector<std::string> cells;
            std::stringstream ls(line);
            std::string c;
            while (std::getline(ls, c, ',')) cells.push_back(c);
            cells.resize(cols.size());
            QCOMPARE(std::stoll(cells[0]), s.step);
            for (size_t i = 3; i < cols.size(); ++i) {
                const auto it = s.scalars.find(cols[i]);
                if (it == s.scalars.end()) {
                    QVERIFY(cells[i].empty());
                } else {
                    QCOMPARE(std::stod(cells[i]), it->second);
                    ++compared;
                }
            }
        }
        QVERIFY(compared > 4 * 5);

        // A fork: its copied steps go into its own new log, then its own.
        const std::string child = tmp.filePath("child").toStdString();
        forkRun(dir, child, 4);
        QVERIFY(!checkOk(child).is_null());
        QCOMPARE(eventFiles(child + "/tb").size(), size_t(1));
    }
};

QTEST_APPLESS_MAIN(TestTensorBoardLog)
#include "test_tensorboard_log.moc"

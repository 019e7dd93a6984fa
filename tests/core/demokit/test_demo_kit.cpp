// `xopd demo-kit build` is deterministic: two runs of the command with the same options write
// byte-identical kits, file by file, and another seed gives other weights. Quick builds (few
// steps, three voices, targets not enforced) exercise the same code as the full kit;
// test_demo_kit_full (slow) builds the real one. Each build is its own process, as a user's is:
// espeak-ng keeps synthesis state between calls in one process (the same text spoken twice in a
// row differs), so only a fresh process reproduces a kit.
#include "core/common/Error.h"
#include "core/demokit/DemoKit.h"
#include "core/demokit/DemoKitBuilder.h"
#include "core/demokit/BeepProbe.h"
#include "core/demokit/DemoQuestions.h"
#include "core/data/PromptSet.h"

#include <nlohmann/json.hpp>

#include <QDirIterator>
#include <QProcess>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <map>

using namespace xopd::demokit;

namespace {

/// Runs `xopd demo-kit build` with quick options into out; returns its exit code.
int buildWithCli(const QString& out, const QString& seed = "1234") {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(qEnvironmentVariable("XOPD_CLI"),
            {"demo-kit", "build", "--out", out, "--seed", seed, "--train-voices", "en@175", "en-us@160:60",
             "--eval-voices", "en-us+m3@180:45", "--bpe-merges", "100", "--teacher-steps", "50", "--large-teacher-steps", "5",
             "--tower-steps", "10", "--student-steps", "10", "--probe-clips", "4", "--no-target-check"});
    if (!p.waitForFinished(300000)) return -1;
    if (p.exitCode() != 0) qWarning("%s", p.readAll().constData());
    return p.exitCode();
}

DemoKitOptions quickOptions() {
    DemoKitOptions o;
    o.train_voices = {"en@175", "en-us@160:60"};
    o.eval_voices = {"en-us+m3@180:45"};
    o.bpe_merges = 100;
    o.teacher_steps = 50;
    o.large_teacher_steps = 0;
    o.tower_steps = 10;
    o.alignment_max_steps = 10;
    o.alignment_check_every = 10;
    o.probe_train_per_count = 4;
    o.probe_test_per_count = 2;
    o.student_batch = 8;
    o.check_targets = false;
    return o;
}

std::vector<std::string> readLines(const std::string& path) {
    std::vector<std::string> out;
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const auto& line : f.readAll().split('\n'))
        if (!line.trimmed().isEmpty()) out.push_back(line.toStdString());
    return out;
}

/// Relative path -> bytes of every file under dir.
std::map<QString, QByteArray> filesOf(const QString& dir) {
    std::map<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly)) out[QDir(dir).relativeFilePath(path)] = f.readAll();
    }
    return out;
}

// The kit's manifests hold the split by question: no validation, test or held-out-category
// question is spoken in train.jsonl (what runs train on): they are in pretrain.jsonl (the
// student's build only); eval.jsonl has every question in the held-out voice, each row with its
// category and the split of its question; the probe's beeps are apart.
void checkManifests(const DemoKit& kit) {
    std::map<std::string, DemoQuestion> by_text;
    for (const auto& q : demoQuestions()) by_text.emplace(q.question, q);
    const auto train = xopd::data::loadPromptSet(kit.train_manifest);
    QCOMPARE(int(train.items.size()), 157 * 2);
    for (const auto& item : train.items) QCOMPARE(QString::fromStdString(by_text.at(item.transcript).split), QString("train"));
    const auto pretrain = xopd::data::loadPromptSet((std::filesystem::path(kit.root) / "prompts" / "pretrain.jsonl").string());
    QCOMPARE(int(pretrain.items.size()), (233 - 157) * 2);
    for (const auto& item : pretrain.items) QVERIFY(by_text.at(item.transcript).split != "train");
    std::map<std::string, int> splits;
    for (const auto& line : readLines(kit.eval_manifest)) {
        const auto row = nlohmann::json::parse(line);
        const auto& q = by_text.at(row["transcript"].get<std::string>());
        QCOMPARE(QString::fromStdString(row["category"].get<std::string>()), QString::fromStdString(q.category));
        const std::string want = q.split == "train" ? "eval" : q.split == "validation" ? "dev" : "test";
        QCOMPARE(QString::fromStdString(row["split"].get<std::string>()), QString::fromStdString(want));
        ++splits[row["split"].get<std::string>()];
    }
    QCOMPARE(splits["eval"], 157);
    QCOMPARE(splits["dev"], 18);
    QCOMPARE(splits["test"], 36 + 22);
    const auto probe = xopd::data::loadPromptSet(kit.probe_manifest);
    QCOMPARE(int(probe.items.size()), 3 * 30);
    for (const auto& item : probe.items) QVERIFY(item.id.rfind("beep-test-", 0) == 0 && item.split == "test");
}

}  // namespace

class TestDemoKit : public QObject {
    Q_OBJECT

private slots:
    void rebuildIsByteIdentical() {
        QTemporaryDir root;
        const QString a = root.filePath("a"), b = root.filePath("b"), c = root.filePath("c");
        // What a build killed by a signal leaves: its temporary folder, named by a pid that is gone
        // (beyond any pid_max), which the next build removes; a folder of a live pid (ours) stays.
        QVERIFY(QDir().mkpath(root.filePath("a.tmp-2147483000/prompts")));
        const QString live = root.filePath("b.tmp-" + QString::number(QCoreApplication::applicationPid()));
        QVERIFY(QDir().mkpath(live));
        QCOMPARE(buildWithCli(a), 0);
        QVERIFY(!QFileInfo::exists(root.filePath("a.tmp-2147483000")));
        QVERIFY(QFileInfo::exists(live));
        QVERIFY(QDir(live).removeRecursively());
        QCOMPARE(buildWithCli(b), 0);
        const auto fa = filesOf(a), fb = filesOf(b);
        QVERIFY(fa.count("teacher/model.safetensors") && fa.count("student/model.safetensors"));
        QVERIFY(fa.count("kit.json") && fa.count("prompts/train.jsonl") && fa.count("prompts/eval.jsonl"));
        QVERIFY(fa.size() > 100);  // 157 training questions x 2 voices + 233 x 1 of audio, beeps, the models
        QVERIFY(fa.count("teacher-large/model.safetensors") && fa.count("prompts/probe.jsonl") &&
                fa.count("prompts/probe-train.jsonl"));
        QCOMPARE(fa.size(), fb.size());
        for (const auto& [name, bytes] : fa) {
            QVERIFY2(fb.count(name), qPrintable(name + " is missing from the second build"));
            QVERIFY2(fb.at(name) == bytes, qPrintable(name + " differs between two builds"));
        }
        // No temporary folder is left beside the kits.
        QCOMPARE(QDir(root.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 2);
        QCOMPARE(buildWithCli(c, "99"), 0);
        const auto fc = filesOf(c);
        QVERIFY(fc.at("teacher/model.safetensors") != fa.at("teacher/model.safetensors"));
        QVERIFY(fc.at("prompts/train.jsonl") == fa.at("prompts/train.jsonl"));  // the speech does not depend on it
        const DemoKit kit = openDemoKit(a.toStdString());
        QVERIFY(QFile::exists(QString::fromStdString(kit.student_dir + "/config.json")));
        checkManifests(kit);
        if (QTest::currentTestFailed()) return;
    }

    // Held out by question: 2/7 of the compositional questions are test, 1/7 validation, and each
    // of their words is heard in a training question; the held-out category is never trained. A
    // split that breaks either rule is refused, naming the question.
    void questionsAreSplitByQuestion() {
        const auto qs = demoQuestions();
        QCOMPARE(int(qs.size()), 233);
        std::map<std::string, int> n;
        for (const auto& q : qs) ++n[q.category == kHeldOutCategory ? std::string("category") : q.split];
        QCOMPARE(n["train"], 157);
        QCOMPARE(n["validation"], 18);
        QCOMPARE(n["test"], 36);
        QCOMPARE(n["category"], 22);
        checkDemoQuestionSplit(qs);
        auto unheard = qs;
        unheard.push_back({"q999", "what is zero plus one", "one", "arithmetic", "test"});  // "zero" is never spoken
        QVERIFY_EXCEPTION_THROWN(checkDemoQuestionSplit(unheard), xopd::Error);
        auto trained = qs;
        trained.back().split = "train";  // a counting question
        QVERIFY_EXCEPTION_THROWN(checkDemoQuestionSplit(trained), xopd::Error);
    }

    // The probe's clips hold the number of beeps their answer says, counted independently here
    // (runs of 10 ms frames whose RMS is above 0.05); the same seed gives the same samples.
    void beepClipsHoldTheirCount() {
        const auto clips = beepClips("t", 20, 7);
        QCOMPARE(int(clips.size()), 60);
        for (const auto& c : clips) {
            QCOMPARE(c.audio.sample_rate, 16000);
            int bursts = 0;
            bool on = false;
            for (size_t f = 0; f + 160 <= c.audio.samples.size(); f += 160) {
                double e = 0;
                for (size_t i = f; i < f + 160; ++i) e += double(c.audio.samples[i]) * c.audio.samples[i];
                const bool loud = std::sqrt(e / 160) > 0.05;
                bursts += loud && !on;
                on = loud;
            }
            QCOMPARE(bursts, c.count);
            QCOMPARE(QString::fromStdString(beepAnswer(c.count)), QString::fromStdString(xopd::demokit::numberWords()[c.count]));
        }
        QVERIFY(beepClips("t", 20, 7)[5].audio.samples == clips[5].audio.samples);
        QVERIFY(beepClips("t", 20, 8)[5].audio.samples != clips[5].audio.samples);
    }

    // A kit of another version is refused, naming the version and the command that rebuilds it.
    void otherKitVersionsAreRefused() {
        QTemporaryDir root;
        for (const char* content : {R"({"format": "xopd-demo-kit", "version": 2})", "{}"}) {
            QFile f(root.filePath("kit.json"));
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(content);
            f.close();
            try {
                openDemoKit(root.path().toStdString());
                QFAIL("expected an error");
            } catch (const xopd::Error& e) {
                const std::string m = e.what();
                QVERIFY2(m.find("version 3") != std::string::npos && m.find("xopd demo-kit build") != std::string::npos, e.what());
                if (std::string(content).find("version") != std::string::npos) QVERIFY2(m.find("kit version 2") != std::string::npos, e.what());
            }
        }
    }

    void missingKitNamesFolderAndCommand() {
        try {
            openDemoKit("/nonexistent/kit");
            QFAIL("expected an error");
        } catch (const xopd::Error& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("/nonexistent/kit") != std::string::npos && m.find("xopd demo-kit build") != std::string::npos,
                     e.what());
        }
    }

    // The abort callback (whisper.cpp's manner) is asked before every step and honoured within it:
    // after it says stop, no further step is reported, buildDemoKit throws DemoKitCancelled, and
    // neither a kit nor a temporary folder is left; a kit already at the folder stays as it was.
    // Progress fractions never decrease and stay below 1 until the kit is in place.
    void abortStopsWithinOneStepAndLeavesNothing() {
        struct Case {
            const char* stage;
            int at;
        };
        for (const Case c : {Case{"speech", 5}, Case{"teacher", 3}}) {
            QTemporaryDir root;
            const QString out = root.filePath("kit");
            QVERIFY(QDir().mkpath(out));
            QFile old(out + "/kit.json");
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write("earlier kit");
            old.close();
            DemoKitOptions o = quickOptions();
            o.train_voices = {"en@175"};
            std::vector<DemoKitProgress> seen;
            bool stop = false;
            o.on_step = [&](const DemoKitProgress& p) {
                seen.push_back(p);
                if (p.stage == c.stage && p.done >= c.at) stop = true;
            };
            int asked_after_stop = 0;
            o.abort = [&] {
                asked_after_stop += stop;
                return stop;
            };
            try {
                buildDemoKit(out.toStdString(), o);
                QFAIL("expected the build to be cancelled");
            } catch (const DemoKitCancelled&) {
            }
            QVERIFY(!seen.empty());
            QCOMPARE(QString::fromStdString(seen.back().stage), QString(c.stage));
            QCOMPARE(seen.back().done, c.at);  // not one step more
            QCOMPARE(asked_after_stop, 1);
            for (size_t i = 1; i < seen.size(); ++i) QVERIFY(seen[i].fraction >= seen[i - 1].fraction);
            QVERIFY(seen.back().fraction > 0 && seen.back().fraction < 1);
            QCOMPARE(QDir(root.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), QStringList{"kit"});
            QCOMPARE(QDir(out).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot), QStringList{"kit.json"});
            QVERIFY(old.open(QIODevice::ReadOnly));
            QCOMPARE(old.readAll(), QByteArray("earlier kit"));
        }
    }

    void missedTargetsAreRefusedAndLeaveNothing() {
        QTemporaryDir root;
        DemoKitOptions o = quickOptions();
        o.check_targets = true;  // a 50-step teacher cannot reach 90 %
        const QString out = root.filePath("kit");
        try {
            buildDemoKit(out.toStdString(), o);
            QFAIL("expected the 90 % teacher target to be refused");
        } catch (const xopd::Error& e) {
            QVERIFY2(std::string(e.what()).find("90 %") != std::string::npos, e.what());
        }
        QVERIFY(!QFileInfo::exists(out));
        QCOMPARE(QDir(root.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }
};

QTEST_APPLESS_MAIN(TestDemoKit)
#include "test_demo_kit.moc"

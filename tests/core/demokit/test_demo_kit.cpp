// `xopd demo-kit build` is deterministic: two runs of the command with the same options write
// byte-identical kits, file by file, and another seed gives other weights. Quick builds (few
// steps, three voices, targets not enforced) exercise the same code as the full kit;
// test_demo_kit_full (slow) builds the real one. Each build is its own process, as a user's is:
// espeak-ng keeps synthesis state between calls in one process (the same text spoken twice in a
// row differs), so only a fresh process reproduces a kit.
#include "core/common/Error.h"
#include "core/demokit/DemoKit.h"
#include "core/demokit/DemoKitBuilder.h"

#include <QDirIterator>
#include <QProcess>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <map>

using namespace xopd::demokit;

namespace {

/// Runs `xopd demo-kit build` with quick options into out; returns its exit code.
int buildWithCli(const QString& out, const QString& seed = "1234") {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(qEnvironmentVariable("XOPD_CLI"),
            {"demo-kit", "build", "--out", out, "--seed", seed, "--train-voices", "en@175", "en-us@160:60",
             "--eval-voices", "en-us+m3@180:45", "--bpe-merges", "100", "--teacher-steps", "50", "--tower-steps", "10",
             "--student-steps", "10", "--no-target-check"});
    if (!p.waitForFinished(300000)) return -1;
    if (p.exitCode() != 0) qWarning("%s", p.readAll().constData());
    return p.exitCode();
}

DemoKitOptions quickOptions() {
    DemoKitOptions o;
    o.train_voices = {"en@175", "en-us@160:60"};
    o.eval_voices = {"en-us+m3@180:45"};
    o.bpe_merges = 100;
    o.teacher_max_steps = 50;
    o.tower_max_steps = 10;
    o.student_check_every = 10;
    o.student_max_steps = 10;
    o.alignment_check_every = 10;
    o.student_batch = 8;
    o.check_targets = false;
    return o;
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
        QVERIFY(fa.size() > 100);  // 143 questions x 3 voices of audio, plus the models
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

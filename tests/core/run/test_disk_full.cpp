// A full disk never aborts (issue 18.3): on a small tmpfs, a checkpoint whose optimizer.pt does not
// fit fails with an xopd::Error that names the file and says "disk full" (LibTorch's stream writer
// used to throw from a destructor: terminate, exit 134); a run that fills its disk ends "failed"
// with "disk full", its last complete checkpoint and `latest` intact, and a resume removes the
// partial checkpoint folders first. Mounting needs root (CAP_SYS_ADMIN): without it the tests skip
// and say so.
#include "core/common/Error.h"
#include "core/distill/ToyPolicy.h"
#include "core/distill/Trainer.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunController.h"
#include "core/run/RunFork.h"
#include "core/run/RunStore.h"
#include "tests/support/TestHelpers.h"

#include <QtTest/QtTest>

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace xopd;
namespace fs = std::filesystem;

namespace {

/// A tmpfs of `bytes` mounted on `dir` for the object's lifetime.
class Tmpfs {
public:
    Tmpfs(const std::string& dir, int64_t bytes) : dir_(dir) {
        fs::create_directories(dir);
        const std::string options = "size=" + std::to_string(bytes);
        mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
        if (!mounted_) error_ = std::strerror(errno);
    }
    ~Tmpfs() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }

private:
    std::string dir_, error_;
    bool mounted_ = false;
};

int64_t freeBytes(const std::string& dir) {
    struct statvfs s {};
    return ::statvfs(dir.c_str(), &s) == 0 ? int64_t(s.f_bavail) * int64_t(s.f_frsize) : -1;
}

/// Writes `path` until the device has at most `leave` bytes free (0: until it is full).
void fill(const std::string& path, int64_t leave) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return;
    std::vector<char> block(4096, 'x');
    const std::string dir = fs::path(path).parent_path().string();
    while (freeBytes(dir) > leave) {
        if (std::fwrite(block.data(), 1, block.size(), f) != block.size()) break;
        if (std::fflush(f) != 0) break;
    }
    std::fclose(f);
}

}  // namespace

class TestDiskFull : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void aCheckpointThatDoesNotFitFailsNamingTheFile() {
        const std::string mnt = tmp_.filePath("small").toStdString();
        Tmpfs disk(mnt, 4 << 20);
        if (!disk.mounted()) QSKIP(qPrintable(QString("cannot mount a tmpfs here (%1): run as root").arg(disk.error().c_str())));
        auto c = test::toyRunConfig({4, 8, 8, 0, 0});
        auto student = std::make_shared<distill::ToyPolicy>(distill::ToyPolicyOptions{}, true);
        auto teacher = std::make_shared<distill::ToyPolicy>(distill::ToyPolicyOptions{}, false);
        distill::Trainer trainer(c, student, teacher, distill::toyPrompts(8));
        trainer.step();

        // The sizes of a checkpoint's files, written where there is room.
        const std::string roomy = tmp_.filePath("roomy").toStdString();
        fs::create_directories(roomy);
        trainer.saveState(roomy);
        const auto size = [&](const char* f) { return int64_t(fs::file_size(fs::path(roomy) / f)); };
        const int64_t before_optimizer = size("model.safetensors") + size("trainable.pt") + size("config.json");
        QVERIFY(size("optimizer.pt") > 64 * 1024);  // large enough to fail alone

        // Room for the files written before optimizer.pt, and a little more: optimizer.pt fails.
        fill(mnt + "/filler", before_optimizer + 32 * 1024);
        const std::string folder = mnt + "/ckpt";
        fs::create_directories(folder);
        QString error;
        try {
            trainer.saveState(folder);
        } catch (const Error& e) {
            error = e.what();
        }
        QVERIFY2(error.contains("optimizer.pt") && error.contains("disk full"), qPrintable("got: " + error));
        for (const auto& e : fs::directory_iterator(folder))  // no partial file left behind
            QVERIFY2(e.path().filename().string().find(".tmp-") == std::string::npos, e.path().c_str());
    }

    void aRunOnAFullDiskFailsAndKeepsItsLastCheckpoint() {
        const std::string mnt = tmp_.filePath("run-disk").toStdString();
        Tmpfs disk(mnt, 16 << 20);
        if (!disk.mounted()) QSKIP(qPrintable(QString("cannot mount a tmpfs here (%1): run as root").arg(disk.error().c_str())));
        run::RunOptions o;
        o.run_dir = mnt + "/run";
        {
            run::RunController c(test::toyRunConfig({100000, 16, 10, 1, 0}), o);
            c.start();
            for (int i = 0; i < 3000 && run::checkpointSteps(o.run_dir).size() < 2; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            QVERIFY(run::checkpointSteps(o.run_dir).size() >= 2);
            fill(mnt + "/filler", 0);  // the disk is full from now on
            for (int i = 0; i < 6000 && c.state() != RunState::Failed && c.state() != RunState::Finished; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            c.wait();
            QCOMPARE(c.state(), RunState::Failed);
            QVERIFY2(QString::fromStdString(c.lastReason()).contains("disk full"), c.lastReason().c_str());
        }
        // The newest complete checkpoint is whole and `latest` names it.
        const std::string latest = run::latestCheckpoint(o.run_dir);
        QVERIFY(!latest.empty());
        QCOMPARE(QString::fromStdString(fs::path(latest).filename().string()),
                 QString::fromStdString(run::latestCheckpointName(o.run_dir)));
        for (const char* f : {"model.safetensors", "trainable.pt", "optimizer.pt", "trainer_state.json"})
            QVERIFY2(fs::file_size(fs::path(latest) / f) > 0, f);

        // Space again: the resume removes what the failed checkpoint left and continues.
        fs::remove(mnt + "/filler");
        fs::create_directories(o.run_dir + "/checkpoints/.tmp-step-999999-1");  // as a killed writer leaves it
        auto resumed = run::RunController::resume(o);
        resumed->setKnob("max_steps", double(run::checkpointStep(fs::path(latest).filename().string()) + 1));
        resumed->start();
        resumed->wait();
        QCOMPARE(resumed->state(), RunState::Finished);
        for (const auto& e : fs::directory_iterator(o.run_dir + "/checkpoints"))
            QVERIFY2(e.path().filename().string().rfind(".tmp-", 0) != 0, e.path().c_str());
    }
};

QTEST_APPLESS_MAIN(TestDiskFull)
#include "test_disk_full.moc"

// Common helpers: errors name the file, atomic writes leave no partial file, threads are set.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/TorchRuntime.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>

class TestCommon : public QObject {
    Q_OBJECT
private slots:
    void missingJsonNamesTheFile() {
        try {
            xopd::readJsonFile("/nonexistent/dir/config.json");
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY(QString(e.what()).contains("/nonexistent/dir/config.json"));
        }
    }
    void badJsonNamesTheFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("bad.json").toStdString();
        std::ofstream(path) << "{ not json";
        try {
            xopd::readJsonFile(path);
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY(QString(e.what()).contains("bad.json"));
            QVERIFY(QString(e.what()).contains("not valid JSON"));
        }
    }
    void atomicWriteReplacesWholeFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("a.json").toStdString();
        xopd::writeJsonFileAtomic(path, {{"x", 1}});
        xopd::writeJsonFileAtomic(path, {{"x", 2}});
        QCOMPARE(xopd::readJsonFile(path)["x"].get<int>(), 2);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);  // no temporary left behind
    }
    void atomicWriteIntoMissingFolderFails() {
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::writeFileAtomic("/nonexistent/x.txt", "x"));
    }
    void threadsConfigured() {
        QCOMPARE(xopd::configureThreads(2), 2);
        QCOMPARE(xopd::torchThreads(), 2);
    }
};

QTEST_APPLESS_MAIN(TestCommon)
#include "test_common.moc"

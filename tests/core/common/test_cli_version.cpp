// The CLI reports the project version and its help lists every command group.
#include "core/common/Version.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

class TestCliVersion : public QObject {
    Q_OBJECT
private slots:
    void versionMatchesProject() {
        const auto r = xopd::test::runCli({"--version"});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QString("xopd ") + XOPD_VERSION);
    }
    void helpListsSelftest() {
        const auto r = xopd::test::runCli({"--help"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("selftest"), qPrintable(r.out));
    }
    void selftestReportsRuntime() {
        const auto r = xopd::test::runCli({"selftest"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("libtorch: 1.") || r.out.contains("libtorch: 2."), qPrintable(r.out));
        QVERIFY2(r.out.contains("threads: "), qPrintable(r.out));
        QVERIFY2(r.out.contains("blas: "), qPrintable(r.out));
    }
    void unknownCommandIsUsageError() {
        const auto r = xopd::test::runCli({"no-such-command"});
        QVERIFY(r.exitCode != 0);
    }
};

QTEST_APPLESS_MAIN(TestCliVersion)
#include "test_cli_version.moc"

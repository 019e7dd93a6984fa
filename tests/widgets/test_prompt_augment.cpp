// The prompt library's "Augment…" (offscreen): the action opens the dialog, ticking conditions
// makes the specs (and refuses a bad SNR list), and accepting runs the augmentation off the GUI
// thread (the GUI stays responsive: its progress bar shows while the worker writes) and adds one
// row per prompt x condition, tagged "augmented" and with the condition, source "augmented", files
// under WORKSPACE/augmented/. A prompt without a transcript is left out and reported; Cancel keeps
// nothing.
#include "widgets/prompts/AugmentDialog.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"

#include "core/audio/AudioFile.h"
#include "core/data/PromptSet.h"
#include "tests/support/TestSupport.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QtTest/QtTest>

using namespace xopd;
using namespace xopd::widgets;

namespace {

QString writeTone(const QString& path, double seconds, double hz) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    const audio::AudioClip c{xopd::test::sineTone(hz, seconds, 16000, 0.3), 16000};
    audio::writeAudioFile(path.toStdString(), c, audio::AudioFileFormat::WavPcm16);
    return path;
}

QAction* actionNamed(const PromptLibraryWidget& w, const QString& prefix) {
    for (QAction* a : w.screenActions())
        if (a->text().remove('&').startsWith(prefix)) return a;
    return nullptr;
}

}  // namespace

class TestPromptAugment : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void dialogAugmentsTheShownPromptsIntoTaggedRows() {
        PromptLibraryModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const int a = model.addFile(writeTone(tmp_.filePath("in/a.wav"), 0.6, 440), "imported", "what is one plus one");
        model.addFile(writeTone(tmp_.filePath("in/b.wav"), 0.4, 660), "imported", "name a colour");
        model.addFile(writeTone(tmp_.filePath("in/c.wav"), 0.3, 550), "recorded");  // no transcript yet
        model.setData(model.index(a, PromptLibraryModel::Tags), "math");
        PromptLibraryWidget w(&model);
        w.setWorkspaceFolder(tmp_.filePath("ws"));
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy finished(&w, &PromptLibraryWidget::augmentFinished);
        QSignalSpy problems(&w, &PromptLibraryWidget::importProblems);

        QAction* augment = actionNamed(w, "Augment");
        QVERIFY(augment);
        QVERIFY(!augment->shortcut().isEmpty());
        augment->trigger();
        auto* dialog = w.findChild<AugmentDialog*>();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        auto* ok = dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        // The table's current prompt, or every prompt it shows (3).
        QVERIFY(dialog->findChild<QRadioButton*>("scopeShown")->text().contains("(3)"));
        dialog->findChild<QRadioButton*>("scopeShown")->setChecked(true);
        QVERIFY(dialog->allShown());

        // Noise at 0 and 20 dB (pink), speed 1.2, telephone.
        dialog->findChild<QLineEdit*>("snrs")->setText("0, 20");
        dialog->findChild<QComboBox*>("colour")->setCurrentText("pink");
        dialog->findChild<QCheckBox*>("speed")->setChecked(true);
        dialog->findChild<QDoubleSpinBox*>("speedValue")->setValue(1.2);
        dialog->findChild<QCheckBox*>("telephone")->setChecked(true);
        QCOMPARE(dialog->conditionSpecs(),
                 (QStringList{"snr=0,noise=pink", "snr=20,noise=pink", "speed=1.2", "telephone"}));
        QVERIFY(ok->isEnabled());
        // A bad SNR list is refused before anything runs.
        dialog->findChild<QLineEdit*>("snrs")->setText("0, loud");
        QVERIFY(!ok->isEnabled());
        QVERIFY2(dialog->problem().contains("'loud' is not a number"), qPrintable(dialog->problem()));
        dialog->findChild<QLineEdit*>("snrs")->setText("0, 20");
        QVERIFY(ok->isEnabled());
        ok->click();

        // Running on a worker: the GUI thread is free, the progress line shows.
        QVERIFY(w.isAugmenting());
        QVERIFY(w.augmentStatus().contains("Augmenting 2 prompt(s) × 4 condition(s)"));
        QVERIFY(finished.wait(60000));
        QVERIFY(!w.isAugmenting());
        QCOMPARE(finished.first().at(0).toInt(), 8);
        QCOMPARE(model.rowCount(), 3 + 8);
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().at(0).toStringList().join("\n").contains("c: not augmented, it has no transcript"));

        const int r = model.rowOf("a@snr-20dB-noise-pink");
        QVERIFY(r >= 0);
        const PromptEntry& e = model.entry(r);
        QCOMPARE(e.source, QString("augmented"));
        QCOMPARE(e.transcript, QString("what is one plus one"));
        QCOMPARE(e.tags, (QStringList{"math", "augmented", "snr=20dB;noise=pink"}));
        QVERIFY(e.path.startsWith(QDir(tmp_.filePath("ws/augmented")).absolutePath()));
        QVERIFY(QFileInfo::exists(e.path));
        QCOMPARE(e.durationS, 0.6);
        const PromptEntry& fast = model.entry(model.rowOf("b@speed-1.2"));
        QVERIFY(std::fabs(fast.durationS - 0.4 / 1.2) < 0.004);
        QCOMPARE(fast.tags, QStringList({"augmented", "speed=1.2"}));
        QCOMPARE(model.entry(model.rowOf("b@telephone")).tags, QStringList({"augmented", "telephone"}));
        // The manifest beside the clips carries the condition field.
        const auto set = data::loadPromptSet(finished.first().at(1).toString().toStdString());
        QCOMPARE(set.items.size(), size_t(8));
        QCOMPARE(set.items[0].condition, std::string("snr=0dB,noise=pink"));
        // The filter finds them by condition.
        w.proxy()->setFilterFixedString("telephone");
        QCOMPARE(w.proxy()->rowCount(), 2);
    }

    void cancelKeepsNothing() {
        PromptLibraryModel model;
        for (int i = 0; i < 6; ++i)
            model.addFile(writeTone(tmp_.filePath(QString("long/p%1.wav").arg(i)), 3.0, 300 + 50 * i), "imported", "say something");
        PromptLibraryWidget w(&model);
        w.setWorkspaceFolder(tmp_.filePath("ws2"));
        QSignalSpy failed(&w, &PromptLibraryWidget::augmentFailed);
        QList<int> rows{0, 1, 2, 3, 4, 5};
        QVERIFY(w.startAugment(rows, {"tempo=0.7", "reverb=80", "tempo=1.3", "speed=0.9"}, 1));
        QVERIFY(!w.startAugment(rows, {"speed=1.1"}, 1));  // one at a time
        w.cancelAugment();
        QVERIFY(failed.wait(60000));
        QVERIFY2(failed.first().at(0).toString().contains("cancelled"), qPrintable(failed.first().at(0).toString()));
        QCOMPARE(model.rowCount(), 6);
        QCOMPARE(QDir(tmp_.filePath("ws2/augmented")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot), QStringList());
        // A bad spec is refused at once.
        QSignalSpy status(&w, &PromptLibraryWidget::statusMessage);
        QVERIFY(!w.startAugment(rows, {"louder=2"}, 1));
        QVERIFY(status.last().at(0).toString().contains("unknown effect 'louder'"));
    }
};

QTEST_MAIN(TestPromptAugment)
#include "test_prompt_augment.moc"

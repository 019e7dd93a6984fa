// The knob spin boxes of the set-up screen and the monitor (widgets/common/KnobSpinBox.h) accept a
// learning rate typed as researchers write it ("5e-5", issue 17.5: QDoubleSpinBox refused the 'e'),
// show small values in that form, and still take fixed numbers and clamp to the knob's range.
#include "widgets/common/KnobSpinBox.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QtTest/QtTest>

using namespace xopd;

class TestKnobSpinBox : public QObject {
    Q_OBJECT

    // Types into the box as a user does (its line edit is protected: reach it as a child).
    static double typed(QDoubleSpinBox* box, const QString& text) {
        QLineEdit* edit = box->findChild<QLineEdit*>();
        edit->selectAll();
        QTest::keyClicks(edit, text);
        QTest::keyClick(edit, Qt::Key_Return);
        box->interpretText();
        return box->value();
    }

private slots:
    void learningRateInScientificNotation() {
        QWidget parent;
        QDoubleSpinBox* lr = widgets::makeKnobSpinBox(distill::knob("lr"), &parent);
        QCOMPARE(typed(lr, "5e-5"), 5e-5);
        QCOMPARE(lr->text(), QString("5e-05"));
        QCOMPARE(typed(lr, "0.0002"), 2e-4);
        QCOMPARE(typed(lr, "1E-4"), 1e-4);
        lr->setValue(1e-4);
        QCOMPARE(lr->text(), QString("0.0001"));
        QVERIFY(typed(lr, "abc") == 1e-4);  // refused: the value in force stays
    }

    void otherKnobsStillReadPlainNumbers() {
        QWidget parent;
        QDoubleSpinBox* lambda = widgets::makeKnobSpinBox(distill::knob("lambda"), &parent);
        QCOMPARE(typed(lambda, "0.8"), 0.8);
        QCOMPARE(lambda->text(), QString("0.8"));
        typed(lambda, "7");  // above the knob's maximum (1): not accepted as typed
        QVERIFY(lambda->value() <= lambda->maximum());
    }

    // A box laid out at its size hint shows a value with the knob's decimals whole: QAbstractSpinBox
    // sized λ's box for "0" and "1" (its minimum and maximum), so the monitor showed 0.55 as "0.".
    void boxWideEnoughForItsDecimals() {
        for (const char* name : {"lambda", "temperature", "lr"}) {
            QWidget parent;
            QDoubleSpinBox* box = widgets::makeKnobSpinBox(distill::knob(name), &parent);
            const double value = box->maximum() - box->singleStep();  // e.g. 0.95: every decimal used
            box->setValue(value);
            auto* layout = new QHBoxLayout(&parent);
            layout->addWidget(box);
            layout->addStretch(1);
            parent.resize(600, 60);
            parent.show();
            QVERIFY(QTest::qWaitForWindowExposed(&parent));
            QLineEdit* edit = box->findChild<QLineEdit*>();
            const int needed = edit->fontMetrics().horizontalAdvance(box->text());
            QVERIFY2(edit->contentsRect().width() >= needed,
                     qPrintable(QString("%1: '%2' needs %3 px, the edit has %4").arg(name, box->text()).arg(needed).arg(edit->contentsRect().width())));
        }
    }
};

QTEST_MAIN(TestKnobSpinBox)
#include "test_knob_spin_box.moc"

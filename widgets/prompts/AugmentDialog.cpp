#include "widgets/prompts/AugmentDialog.h"

#include "core/data/AcousticCondition.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace xopd::widgets {

namespace {
QDoubleSpinBox* factorBox(QWidget* parent, double value) {
    auto* b = new QDoubleSpinBox(parent);
    b->setRange(0.25, 4.0);
    b->setDecimals(2);
    b->setSingleStep(0.05);
    b->setValue(value);
    return b;
}
}  // namespace

AugmentDialog::AugmentDialog(int selected, int shown, QWidget* parent) : QDialog(parent) {
    setWindowTitle("Augment prompts");
    auto* conditions = new QGroupBox("Acoustic conditions (one new clip per prompt and condition)", this);
    noise_ = new QCheckBox("Noise at SNR (dB)", conditions);
    noise_->setObjectName("noise");
    noise_->setChecked(true);
    snrs_ = new QLineEdit("10", conditions);
    snrs_->setObjectName("snrs");
    snrs_->setToolTip("One or more SNRs in dB, separated by commas (e.g. 0, 10, 20), over the speech's active part");
    colour_ = new QComboBox(conditions);
    colour_->setObjectName("colour");
    colour_->addItems({"white", "pink"});
    speed_ = new QCheckBox("Speed ×", conditions);
    speed_->setObjectName("speed");
    speed_->setToolTip("Duration and pitch change together, as a tape played faster or slower");
    speedValue_ = factorBox(conditions, 1.1);
    speedValue_->setObjectName("speedValue");
    tempo_ = new QCheckBox("Tempo ×", conditions);
    tempo_->setObjectName("tempo");
    tempo_->setToolTip("Duration changes, pitch kept");
    tempoValue_ = factorBox(conditions, 0.9);
    tempoValue_->setObjectName("tempoValue");
    reverb_ = new QCheckBox("Reverb (%)", conditions);
    reverb_->setObjectName("reverb");
    reverbValue_ = new QSpinBox(conditions);
    reverbValue_->setObjectName("reverbValue");
    reverbValue_->setRange(0, 100);
    reverbValue_->setValue(50);
    telephone_ = new QCheckBox("Telephone (300–3400 Hz, via 8 kHz)", conditions);
    telephone_->setObjectName("telephone");
    clean_ = new QCheckBox("Clean copy (unchanged, for comparison)", conditions);
    clean_->setObjectName("clean");
    auto* grid = new QGridLayout(conditions);
    grid->addWidget(noise_, 0, 0);
    grid->addWidget(snrs_, 0, 1);
    grid->addWidget(colour_, 0, 2);
    grid->addWidget(speed_, 1, 0);
    grid->addWidget(speedValue_, 1, 1);
    grid->addWidget(tempo_, 2, 0);
    grid->addWidget(tempoValue_, 2, 1);
    grid->addWidget(reverb_, 3, 0);
    grid->addWidget(reverbValue_, 3, 1);
    grid->addWidget(telephone_, 4, 0, 1, 3);
    grid->addWidget(clean_, 5, 0, 1, 3);

    auto* scope = new QGroupBox("Prompts", this);
    selected_ = new QRadioButton(QString("The selected prompt (%1)").arg(selected), scope);
    selected_->setObjectName("scopeSelected");
    shown_ = new QRadioButton(QString("Every prompt the table shows (%1)").arg(shown), scope);
    shown_->setObjectName("scopeShown");
    selected_->setEnabled(selected > 0);
    (selected > 0 ? selected_ : shown_)->setChecked(true);
    seed_ = new QSpinBox(scope);
    seed_->setObjectName("seed");
    seed_->setRange(0, 1 << 30);
    seed_->setValue(1);
    seed_->setPrefix("noise seed ");
    auto* sl = new QVBoxLayout(scope);
    sl->addWidget(selected_);
    sl->addWidget(shown_);
    sl->addWidget(seed_);

    problem_ = new QLabel(this);
    problem_->setObjectName("problem");
    problem_->setStyleSheet("color:#c62828");
    problem_->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText("Augment");
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(conditions);
    layout->addWidget(scope);
    layout->addWidget(problem_);
    layout->addWidget(buttons);

    auto refresh = [this, buttons] {
        refreshProblem();
        buttons->button(QDialogButtonBox::Ok)->setEnabled(problem().isEmpty());
    };
    for (QCheckBox* c : {noise_, speed_, tempo_, reverb_, telephone_, clean_}) connect(c, &QCheckBox::toggled, this, refresh);
    connect(snrs_, &QLineEdit::textChanged, this, refresh);
    for (QRadioButton* r : {selected_, shown_}) connect(r, &QRadioButton::toggled, this, refresh);
    shown_->setProperty("count", shown);
    selected_->setProperty("count", selected);
    refresh();
}

QStringList AugmentDialog::conditionSpecs() const {
    QStringList specs;
    if (noise_->isChecked())
        for (const QString& snr : snrs_->text().split(',', Qt::SkipEmptyParts))
            specs << QString("snr=%1,noise=%2").arg(snr.trimmed(), colour_->currentText());
    if (speed_->isChecked()) specs << QString("speed=%1").arg(speedValue_->value());
    if (tempo_->isChecked()) specs << QString("tempo=%1").arg(tempoValue_->value());
    if (reverb_->isChecked()) specs << QString("reverb=%1").arg(reverbValue_->value());
    if (telephone_->isChecked()) specs << "telephone";
    if (clean_->isChecked()) specs << "clean";
    return specs;
}

unsigned AugmentDialog::seed() const { return unsigned(seed_->value()); }
bool AugmentDialog::allShown() const { return shown_->isChecked(); }

QString AugmentDialog::problem() const {
    const QStringList specs = conditionSpecs();
    if (specs.isEmpty()) return "Tick at least one condition.";
    if ((allShown() ? shown_ : selected_)->property("count").toInt() == 0) return "No prompt to augment.";
    QStringList names;
    for (const QString& s : specs) {
        try {
            const std::string name = data::parseAcousticCondition(s.toStdString()).name();
            if (names.contains(QString::fromStdString(name))) return QString("'%1' is given twice.").arg(s);
            names << QString::fromStdString(name);
        } catch (const std::exception& e) {
            return QString::fromUtf8(e.what());
        }
    }
    return {};
}

void AugmentDialog::refreshProblem() { problem_->setText(problem()); }

}  // namespace xopd::widgets

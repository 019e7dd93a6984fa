// Token divergence view: the diverging palette is white at zero, blue for A > 0 (teacher more
// confident), orange for A < 0, clamped at ±bound, with the midpoint checked against a hand
// computation; the view paints those colours, uses max |A| of the shown rows as its default bound
// and the user's clamp otherwise; metric values and signs per stream; visible whitespace; step
// snapping, locking and the top-k panel; and the CSV / JSON export read back field by field.
#include "widgets/tokens/TokenMetrics.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <limits>

using namespace xopd;
using namespace xopd::widgets;

namespace {
const float kNaNf = std::numeric_limits<float>::quiet_NaN();
const QColor kBlue(0x21, 0x66, 0xac), kOrange(0xb3, 0x58, 0x06);

TokenRecord token(int pos, const std::string& text, float adv, float studentLp = -1.0f) {
    TokenRecord r;
    r.position = pos;
    r.token_id = 100 + pos;
    r.text = text;
    r.advantage = adv;
    r.student_logprob = studentLp;
    r.teacher_logprob = studentLp + adv;
    r.student_other_logprob = studentLp + 0.25f;
    r.entropy = 0.5f + 0.1f * float(pos);
    r.student_topk = {{r.token_id, studentLp}, {7, studentLp - 1.5f}};
    r.teacher_topk = {{9, studentLp + adv + 0.3f}, {r.token_id, studentLp + adv}};
    return r;
}

TokenDivergenceBatch batch(int64_t step, const std::string& stream, std::vector<TokenRecord> tokens, int sample = 0) {
    TokenDivergenceBatch b;
    b.step = step;
    b.stream = stream;
    b.sample_index = sample;
    b.prompt_id = "p\"1,";  // quotes and commas survive the CSV
    b.prompt_text = "How many items?";
    b.tokens = std::move(tokens);
    return b;
}

int channelDiff(const QColor& a, const QColor& b) {
    return std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines.
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row << field;
            field.clear();
        } else if (c == '\n') {
            row << field;
            field.clear();
            rows << row;
            row.clear();
        } else {
            field += c;
        }
    }
    if (!field.isEmpty() || !row.isEmpty()) rows << (row << field);
    return rows;
}

double parseNum(const QString& s) {
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    bool ok = false;
    const double v = s.toDouble(&ok);
    return ok ? v : 12345.678;  // unparsable: a sentinel that fails the comparison
}

bool close(double a, double b) {
    if (std::isnan(b)) return std::isnan(a);
    return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b));
}
}  // namespace

class TestTokenView : public QObject {
    Q_OBJECT

private slots:
    void divergingPalette() {
        QCOMPARE(divergingColor(0.0, 1.0), QColor(Qt::white));
        QCOMPARE(divergingColor(0.0, 0.01), QColor(Qt::white));
        QCOMPARE(divergingColor(-0.0, 3.0), QColor(Qt::white));
        // Sign: positive is blue (teacher more confident), negative orange.
        const QColor pos = divergingColor(0.4, 1.0), neg = divergingColor(-0.4, 1.0);
        QVERIFY(pos.blue() > pos.red());
        QVERIFY(neg.red() > neg.blue());
        // Saturation at ±bound, and clamping beyond it.
        QVERIFY(channelDiff(divergingColor(1.0, 1.0), kBlue) <= 1);
        QVERIFY(channelDiff(divergingColor(-1.0, 1.0), kOrange) <= 1);
        QCOMPARE(divergingColor(7.5, 1.0), divergingColor(1.0, 1.0));
        QCOMPARE(divergingColor(-1e9, 2.0), divergingColor(-2.0, 2.0));
        // Halfway, by hand: (255 + 0x21) / 2 = 144, (255 + 0x66) / 2 = 178.5, (255 + 0xac) / 2 = 213.5.
        QVERIFY(channelDiff(divergingColor(0.5, 1.0), QColor(144, 178, 213)) <= 1);
        QVERIFY(channelDiff(divergingColor(-1.0, 2.0), QColor((255 + 0xb3) / 2, (255 + 0x58) / 2, (255 + 0x06) / 2)) <= 1);
        // Monotone: the further from zero, the more saturated.
        QVERIFY(divergingColor(0.2, 1.0).red() > divergingColor(0.6, 1.0).red());
        // Unknown values are grey, not a palette colour.
        QCOMPARE(divergingColor(std::nan(""), 1.0), QColor(0xdd, 0xdd, 0xdd));
        // Sequential palette for non-negative metrics: white at 0, clamped.
        QCOMPARE(sequentialColor(0.0, 2.0), QColor(Qt::white));
        QCOMPARE(sequentialColor(9.0, 2.0), sequentialColor(2.0, 2.0));
        // Text colour: white on dark backgrounds (brightness < 0.6).
        QVERIFY(wantsWhiteText(kBlue));  // 0.299·0.129 + 0.587·0.4 + 0.114·0.675 ≈ 0.35
        QVERIFY(!wantsWhiteText(Qt::white));
        QVERIFY(!wantsWhiteText(divergingColor(0.1, 1.0)));
    }

    void metricValuesAndWhitespace() {
        TokenRecord t = token(0, " a", 0.5f, -2.0f);
        QCOMPARE(tokenMetricValue(t, "speech", TokenMetric::Advantage), 0.5);
        QCOMPARE(tokenMetricValue(t, "speech", TokenMetric::TeacherLogprob), -1.5);
        QCOMPARE(tokenMetricValue(t, "text", TokenMetric::StudentLogprob), -2.0);
        // Modality gap log π(y|T) − log π(y|S): on the speech row the other prompt is T ...
        QCOMPARE(tokenMetricValue(t, "speech", TokenMetric::ModalityGap), 0.25);
        // ... on the text row the row's own prompt is T.
        QCOMPARE(tokenMetricValue(t, "text", TokenMetric::ModalityGap), -0.25);
        QVERIFY(tokenMetricIsSigned(TokenMetric::Advantage) && tokenMetricIsSigned(TokenMetric::ModalityGap));
        QVERIFY(!tokenMetricIsSigned(TokenMetric::Entropy));
        t.masked = true;
        QVERIFY(std::isnan(tokenMetricValue(t, "speech", TokenMetric::Advantage)));
        t.student_other_logprob = kNaNf;
        QVERIFY(std::isnan(tokenMetricValue(t, "speech", TokenMetric::ModalityGap)));
        // Spaces and newlines are visible (spec: `·`, `¶`), as are tabs and carriage returns.
        QCOMPARE(visibleWhitespace(" a\nb\t\r"), QString::fromUtf8("·a¶b→␍"));
        QCOMPARE(visibleWhitespace("plain"), QString("plain"));
    }

    void viewColoursBoundsAndClamp() {
        TokenStore store;
        TokenView view(&store);
        view.resize(1000, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        // Speech row: A = 0, +2, −2 (max |A| = 2: full blue and full orange); text row: smaller values.
        store.add(batch(1, "speech", {token(0, " zero", 0.0f), token(1, " up", 2.0f), token(2, " down", -2.0f)}));
        store.add(batch(1, "text", {token(0, " a", 0.5f), token(1, " b", -1.0f)}));
        QCOMPARE(view.currentStep(), int64_t(1));
        QCOMPARE(view.colorBound(), 2.0);  // default: max |value| of the shown rows
        const QImage img = view.grab().toImage();
        auto contains = [&](const QColor& want) {
            for (int y = 0; y < img.height(); y += 1)
                for (int x = 0; x < img.width(); x += 2)
                    if (channelDiff(img.pixelColor(x, y), want) <= 1) return true;
            return false;
        };
        QVERIFY(contains(kBlue));    // the +2 token
        QVERIFY(contains(kOrange));  // the −2 token
        // The user's clamp replaces the automatic bound.
        auto* clamp = view.findChild<QDoubleSpinBox*>();
        QVERIFY(clamp);
        clamp->setValue(0.5);
        QCOMPARE(view.colorBound(), 0.5);
        clamp->setValue(0.0);  // "auto"
        QCOMPARE(view.colorBound(), 2.0);
        // Entropy is unsigned: bound is its max, 0.5 + 0.1·2.
        view.setMetric(TokenMetric::Entropy);
        QVERIFY(std::abs(view.colorBound() - 0.7) < 1e-6);
        view.setMetric(TokenMetric::Advantage);
        // Rows: speech then text.
        const auto shown = view.shownBatches();
        QCOMPARE(shown.size(), size_t(2));
        QCOMPARE(shown[0].stream, std::string("speech"));
        QCOMPARE(shown[1].stream, std::string("text"));
    }

    void batchesJoiningTheShownStep() {
        // Regression: the canvas used to paint through pointers into the store's vectors, which
        // reallocate when another batch of the same step arrives (the text rows of a step come
        // after its speech rows): a crash or garbage on the next paint, and the new row unseen.
        TokenStore store;
        TokenView view(&store);
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QSignalSpy extended(&store, &TokenStore::stepExtended);
        for (int k = 0; k < 16; ++k) {
            store.add(batch(1, "speech", {token(0, " s", 0.5f), token(1, " t", -0.25f)}, k));
            view.grab();  // paint after every arrival
        }
        QCOMPARE(view.colorBound(), 0.5);
        for (int k = 0; k < 16; ++k) {
            store.add(batch(1, "text", {token(0, " u", 3.0f)}, 16 + k));
            view.grab();
        }
        QCOMPARE(extended.count(), 31);
        const auto shown = view.shownBatches();
        QCOMPARE(shown.size(), size_t(2));  // the text row appeared without a new step
        QCOMPARE(view.colorBound(), 3.0);   // and counts for the automatic bound
        store.clear();
        view.grab();
        QVERIFY(view.shownBatches().empty());
    }

    void stepsSnapLockAndTopK() {
        TokenStore store;
        QSignalSpy added(&store, &TokenStore::stepAdded);
        TokenView view(&store);
        for (int64_t s : {1, 5, 10}) {
            store.add(batch(s, "speech", {token(0, " The", 0.1f * float(s)), token(1, " answer", -0.2f)}));
            store.add(batch(s, "text", {token(0, " The", 0.05f)}));
        }
        QCOMPARE(added.count(), 3);  // one per new step, not per batch
        QCOMPARE(store.steps(), (std::vector<int64_t>{1, 5, 10}));
        QCOMPARE(view.currentStep(), int64_t(10));  // follows the latest
        view.showStep(4);
        QCOMPARE(view.currentStep(), int64_t(5));
        view.showStep(7);
        QCOMPARE(view.currentStep(), int64_t(5));  // nearest, ties to the earlier step
        view.showStep(-3);
        QCOMPARE(view.currentStep(), int64_t(1));
        store.add(batch(20, "speech", {token(0, " x", 0.3f)}));
        QCOMPARE(view.currentStep(), int64_t(1));  // scrubbed away from the latest: stays
        view.showStep(100);
        QCOMPARE(view.currentStep(), int64_t(20));

        view.showStep(5);
        view.lockToken(0, 1);
        QCOMPARE(view.lockedRow(), 0);
        QCOMPARE(view.lockedIndex(), 1);
        view.moveLock(+5);
        QCOMPARE(view.lockedIndex(), 1);  // clamped to the row
        view.moveLock(-1);
        QCOMPARE(view.lockedIndex(), 0);
        const QString html = view.detailHtml();
        QVERIFY2(html.contains("Teacher top-k") && html.contains("Student top-k"), qPrintable(html));
        QVERIFY(html.contains(QString::fromUtf8("·The")));  // whitespace visible in the panel
        QVERIFY(html.contains("0.500"));                     // A = 0.1·5
        QVERIFY(html.contains("ffe08a"));                    // the sampled token is highlighted
        view.lockToken(0, -1);
        QCOMPARE(view.lockedRow(), -1);
        QCOMPARE(store.tokenText(101), QString(" answer"));
        QCOMPARE(store.tokenText(4242), QString("#4242"));
    }

    void exportRoundTrip() {
        std::vector<TokenDivergenceBatch> batches;
        auto s = batch(3, "speech", {token(0, " He said \"hi\", then", 0.75f), token(1, "\n", -1.25f), token(2, "<|im_end|>", 0.0f)});
        s.tokens[1].entropy = kNaNf;  // unknown
        s.tokens[2].masked = true;
        s.tokens[2].student_topk.clear();
        batches.push_back(s);
        batches.push_back(batch(3, "text", {token(0, "ok", -0.5f)}, 1));
        QTemporaryDir tmp;

        // CSV.
        const QString csv = tmp.filePath("tokens.csv");
        TokenStore::exportCsv(batches, csv);
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto rows = parseCsv(QString::fromUtf8(f.readAll()));
        QCOMPARE(rows.size(), 1 + 4);
        const QStringList header = rows[0];
        QCOMPARE(header, (QStringList{"step", "stream", "sample", "prompt_id", "position", "token_id", "token", "masked",
                                      "advantage", "teacher_logprob", "student_logprob", "student_other_logprob",
                                      "modality_gap", "entropy", "student_topk", "teacher_topk"}));
        int r = 1;
        for (const auto& b : batches)
            for (const auto& t : b.tokens) {
                const QStringList& row = rows[r++];
                QCOMPARE(row.size(), header.size());
                auto col = [&](const char* name) { return row[header.indexOf(name)]; };
                QCOMPARE(col("step").toLongLong(), b.step);
                QCOMPARE(col("stream"), QString::fromStdString(b.stream));
                QCOMPARE(col("sample").toInt(), b.sample_index);
                QCOMPARE(col("prompt_id"), QString::fromStdString(b.prompt_id));
                QCOMPARE(col("position").toInt(), t.position);
                QCOMPARE(col("token_id").toInt(), t.token_id);
                QCOMPARE(col("token"), QString::fromStdString(t.text));
                QCOMPARE(col("masked").toInt(), t.masked ? 1 : 0);
                QVERIFY(close(parseNum(col("advantage")), t.advantage));
                QVERIFY(close(parseNum(col("teacher_logprob")), t.teacher_logprob));
                QVERIFY(close(parseNum(col("student_logprob")), t.student_logprob));
                QVERIFY(close(parseNum(col("student_other_logprob")), t.student_other_logprob));
                QVERIFY(close(parseNum(col("modality_gap")), tokenMetricValue(t, b.stream, TokenMetric::ModalityGap)));
                QVERIFY(close(parseNum(col("entropy")), t.entropy));
                auto topk = [](const QString& cellText) {
                    std::vector<std::pair<int32_t, float>> out;
                    for (const QString& part : cellText.split(';', Qt::SkipEmptyParts))
                        out.push_back({part.section(':', 0, 0).toInt(), part.section(':', 1).toFloat()});
                    return out;
                };
                const auto st = topk(col("student_topk")), tt = topk(col("teacher_topk"));
                QCOMPARE(st.size(), t.student_topk.size());
                QCOMPARE(tt.size(), t.teacher_topk.size());
                for (size_t k = 0; k < st.size(); ++k) {
                    QCOMPARE(st[k].first, t.student_topk[k].first);
                    QVERIFY(close(st[k].second, t.student_topk[k].second));
                }
                for (size_t k = 0; k < tt.size(); ++k) {
                    QCOMPARE(tt[k].first, t.teacher_topk[k].first);
                    QVERIFY(close(tt[k].second, t.teacher_topk[k].second));
                }
            }

        // JSON.
        const QString json = tmp.filePath("tokens.json");
        TokenStore::exportJson(batches, json);
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(j.readAll(), &err);
        QCOMPARE(err.error, QJsonParseError::NoError);
        QCOMPARE(doc.object()["format"].toString(), QString("xopd-token-table"));
        const QJsonArray arr = doc.object()["batches"].toArray();
        QCOMPARE(arr.size(), 2);
        for (int bi = 0; bi < 2; ++bi) {
            const auto& b = batches[size_t(bi)];
            const QJsonObject ob = arr[bi].toObject();
            QCOMPARE(ob["step"].toInteger(), b.step);
            QCOMPARE(ob["stream"].toString(), QString::fromStdString(b.stream));
            QCOMPARE(ob["sample"].toInt(), b.sample_index);
            QCOMPARE(ob["prompt_id"].toString(), QString::fromStdString(b.prompt_id));
            QCOMPARE(ob["prompt_text"].toString(), QString::fromStdString(b.prompt_text));
            const QJsonArray toks = ob["tokens"].toArray();
            QCOMPARE(toks.size(), int(b.tokens.size()));
            for (int ti = 0; ti < toks.size(); ++ti) {
                const auto& t = b.tokens[size_t(ti)];
                const QJsonObject o = toks[ti].toObject();
                QCOMPARE(o["token"].toString(), QString::fromStdString(t.text));
                QCOMPARE(o["token_id"].toInt(), t.token_id);
                QCOMPARE(o["position"].toInt(), t.position);
                QCOMPARE(o["masked"].toBool(), t.masked);
                auto num = [&](const char* k) { return o[k].isNull() ? std::nan("") : o[k].toDouble(); };
                QVERIFY(close(num("advantage"), t.advantage));
                QVERIFY(close(num("teacher_logprob"), t.teacher_logprob));
                QVERIFY(close(num("student_logprob"), t.student_logprob));
                QVERIFY(close(num("entropy"), t.entropy));  // NaN is written as null
                QVERIFY(close(num("modality_gap"), tokenMetricValue(t, b.stream, TokenMetric::ModalityGap)));
                const QJsonArray tk = o["teacher_topk"].toArray();
                QCOMPARE(tk.size(), int(t.teacher_topk.size()));
                for (int k = 0; k < tk.size(); ++k) {
                    QCOMPARE(tk[k].toArray()[0].toInt(), t.teacher_topk[size_t(k)].first);
                    QVERIFY(close(tk[k].toArray()[1].toDouble(), t.teacher_topk[size_t(k)].second));
                }
                QCOMPARE(o["student_topk"].toArray().size(), int(t.student_topk.size()));
            }
        }

        // The view exports exactly the rows it shows.
        TokenStore store;
        for (const auto& b : batches) store.add(b);
        TokenView view(&store);
        view.exportCsv(tmp.filePath("view.csv"));
        QFile vf(tmp.filePath("view.csv"));
        QVERIFY(vf.open(QIODevice::ReadOnly));
        // Row 0 pairs the first speech batch with the first text batch (sample indices differ).
        QCOMPARE(parseCsv(QString::fromUtf8(vf.readAll())).size(), 1 + 3 + 1);
        // A folder that does not exist: an error naming the file.
        try {
            TokenStore::exportJson(batches, tmp.filePath("missing/dir/t.json"));
            QFAIL("no error");
        } catch (const std::exception& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains("t.json"));
        }
    }
};

QTEST_MAIN(TestTokenView)
#include "test_token_view.moc"

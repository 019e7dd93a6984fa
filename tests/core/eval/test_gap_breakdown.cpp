// The gap explorer (issue 15 point 5): S, T and the modality gap by group on two tiny random
// Qwen2.5-Omni students and six spoken (tone) prompts whose reference answers are set to some of
// the first student's own greedy answers, so that S and T are neither all 0 nor all 100.
// Checked against independent recomputations: each group's S and T against the plain evaluator run
// on that group's prompts alone; each clip's log-probs against a direct, unbatched forward pass
// (float64 log-softmax) within 1e-5; group counts, "(none)", the rate buckets from words and
// durations, the sort order, tags in several groups, and the CLI (`xopd eval --by`, a bad --by).
#include "core/audio/AudioFile.h"
#include "core/common/Error.h"
#include "core/data/PromptFields.h"
#include "core/eval/AnswerMatch.h"
#include "core/eval/Evaluator.h"
#include "core/eval/GapBreakdown.h"
#include "core/eval/ModalityGap.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/model/runtime/TinyModels.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/session/GapExplorer.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace xopd;
using json = nlohmann::json;

namespace {

struct ClipSpec {
    std::string id, transcript;
    double seconds;
    json voice;  // null = no voice field
    std::vector<std::string> tags;
};

// Words / seconds: 2/1.0 = 2.0, 3/1.0 = 3.0, 4/2.0 = 2.0, 5/2.0 = 2.5, 3/2.0 = 1.5, 2/1.0 = 2.0 w/s.
const std::vector<ClipSpec> kClips = {
    {"c0", "the thing", 1.0, "alice", {"math"}},
    {"c1", "the thing two", 1.0, "bob", {"math", "easy"}},
    {"c2", "in the thing now", 2.0, "alice", {}},
    {"c3", "the thing in the heat", 2.0, nullptr, {"easy"}},
    {"c4", "the thing two", 2.0, "carol", {"math"}},
    {"c5", "the thing", 1.0, nullptr, {}},
};

}  // namespace

class TestGapBreakdown : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::string m1_, m2_, manifest_;
    std::vector<eval::EvalPrompt> prompts_;

    session::GapRequest request(const std::string& by) const {
        session::GapRequest r;
        r.manifest = manifest_;
        r.by = by;
        r.checkpoints = {{"m1", m1_}, {"m2", m2_}};
        r.max_new_tokens = 4;
        return r;
    }

    eval::EvalResult evaluateAlone(const std::string& folder, const std::vector<eval::EvalPrompt>& prompts) const {
        const model::SpeechLm lm = model::loadModel(folder);
        const text::Tokenizer tok = text::Tokenizer::fromFile(folder);
        eval::EvalOptions o;
        o.max_new_tokens = 4;
        o.batch_size = 1;  // unbatched: no padding shared with the other clips
        return eval::evaluateModel(lm, tok, text::detectChatTemplateInFolder(folder), prompts, o);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        const std::string root = dir_.path().toStdString();
        model::RandomWeightOptions w;
        w.seed = 1;
        m1_ = model::buildTinyChatModel(root + "/m1", model::ModelKind::Qwen25OmniThinker, w);
        w.seed = 2;
        m2_ = model::buildTinyChatModel(root + "/m2", model::ModelKind::Qwen25OmniThinker, w);
        QDir().mkpath(dir_.filePath("audio"));
        for (size_t i = 0; i < kClips.size(); ++i) {
            audio::AudioClip clip;
            clip.sample_rate = 16000;
            clip.samples = test::sineTone(200.0 + 90.0 * double(i), kClips[i].seconds, 16000);
            const std::string wav = root + "/audio/" + kClips[i].id + ".wav";
            audio::writeAudioFile(wav, clip, audio::AudioFileFormat::WavPcm16);
            prompts_.push_back({kClips[i].id, wav, kClips[i].transcript, "placeholder"});
        }
        // References: the first student's own answers to the speech (c0, c3), to the text (c1, c4),
        // and answers it never gives (c2, c5).
        const auto first = evaluateAlone(m1_, prompts_);
        const size_t n = prompts_.size();
        for (size_t i = 0; i < n; ++i) {
            std::string ref = i % 3 == 0 ? first.predictions[i].answer : i % 3 == 1 ? first.predictions[n + i].answer : "";
            if (eval::normalizeAnswer(ref).empty()) ref = "zebra quantum";
            prompts_[i].reference = ref;
        }
        manifest_ = root + "/prompts.jsonl";
        std::ofstream m(manifest_);
        for (size_t i = 0; i < n; ++i) {
            json row{{"id", kClips[i].id}, {"audio", "audio/" + kClips[i].id + ".wav"}, {"transcript", kClips[i].transcript},
                     {"reference", prompts_[i].reference}, {"split", "eval"}, {"tags", kClips[i].tags}};
            if (!kClips[i].voice.is_null()) row["voice"] = kClips[i].voice;
            if (i % 3 == 0) row["condition"] = "snr=10dB,noise=white";  // as `xopd prompts augment` tags a clip
            m << row.dump() << "\n";
        }
        m << json{{"id", "noref"}, {"audio", "audio/c0.wav"}, {"transcript", "no reference"}, {"split", "eval"}}.dump() << "\n";
    }

    // Each group's S and T per checkpoint equal the evaluator's on that group's prompts alone; the
    // counts add up; clips without a voice are in "(none)"; groups are sorted by the last gap.
    void groupsMatchTheEvaluatorOnEachGroup() {
        const eval::GapTable t = session::exploreGaps(request("voice"));
        QCOMPARE(int(t.clips.size()), 6);  // "noref" has no reference: skipped
        QCOMPARE(int(t.checkpoints.size()), 2);
        std::map<std::string, int> expected{{"alice", 2}, {"bob", 1}, {"carol", 1}, {"(none)", 2}};
        int total = 0;
        for (const auto& g : t.groups) {
            QVERIFY2(expected.count(g.name), g.name.c_str());
            QCOMPARE(int(g.clips.size()), expected[g.name]);
            total += int(g.clips.size());
        }
        QCOMPARE(int(t.groups.size()), 4);
        QCOMPARE(total, 6);
        for (size_t i = 1; i < t.groups.size(); ++i) QVERIFY(t.groups[i - 1].cells.back().gap >= t.groups[i].cells.back().gap);

        double s_sum = 0, t_sum = 0;
        for (size_t c = 0; c < t.checkpoints.size(); ++c) {
            const std::string folder = c == 0 ? m1_ : m2_;
            for (const auto& g : t.groups) {
                std::vector<eval::EvalPrompt> mine;
                for (int i : g.clips) mine.push_back(prompts_[size_t(i)]);
                const auto alone = evaluateAlone(folder, mine);
                QCOMPARE(g.cells[c].speech, *alone.scores.speech);
                QCOMPARE(g.cells[c].text, *alone.scores.text);
                QCOMPARE(g.cells[c].count, int(mine.size()));
            }
            const auto all = evaluateAlone(folder, prompts_);
            QCOMPARE(t.overall.cells[c].speech, *all.scores.speech);
            QCOMPARE(t.overall.cells[c].text, *all.scores.text);
            s_sum += *all.scores.speech;
            t_sum += *all.scores.text;
        }
        QVERIFY2(s_sum > 0 && t_sum > 0, "the fixture must have correct answers to speech and to text");
    }

    // Each clip's log-probs equal a direct forward pass over [prompt | reference ids, <|im_end|>]
    // (one clip, no padding, float64 log-softmax) within 1e-5 nats; a group's gap is its clips' mean.
    void logProbsMatchADirectForwardPass() {
        const eval::GapTable t = session::exploreGaps(request("voice"));
        for (size_t c = 0; c < 2; ++c) {
            const std::string folder = c == 0 ? m1_ : m2_;
            const model::SpeechLm lm = model::loadModel(folder);
            const text::Tokenizer tok = text::Tokenizer::fromFile(folder);
            const auto kind = text::detectChatTemplateInFolder(folder);
            torch::NoGradGuard g;
            for (size_t i = 0; i < t.clips.size(); ++i) {
                const auto& clip = t.clips[i];
                QCOMPARE(clip.id, prompts_[i].id);
                const auto ref32 = tok.encode(clip.reference);
                std::vector<int64_t> answer(ref32.begin(), ref32.end());
                answer.push_back(model::TinyVocab::kImEnd);
                const torch::Tensor answer_t = torch::tensor(answer, torch::kInt64);
                auto direct = [&](const torch::Tensor& prompt_embeds) {
                    const torch::Tensor x = torch::cat({prompt_embeds, lm.decoder().embed(answer_t)}, 0).unsqueeze(0);
                    model::DecoderInput in;
                    in.inputs_embeds = x;
                    const torch::Tensor lp = lm.decoder().forward(in).logits[0].to(torch::kFloat64).log_softmax(-1);
                    const int64_t P = prompt_embeds.size(0);
                    double sum = 0;
                    for (size_t j = 0; j < answer.size(); ++j) sum += lp[P - 1 + int64_t(j)][answer[j]].item<double>();
                    return sum / double(answer.size());
                };
                const auto text_ids = model::userTurnPromptIds(tok, kind, clip.transcript, 0);
                const double lp_text = direct(lm.decoder().embed(torch::tensor(text_ids, torch::kInt64)));
                const auto f = model::audioFeaturesFor(*lm.audioEncoder(), clip.audio_path);
                const auto speech_ids = model::userTurnPromptIds(tok, kind, clip.transcript,
                                                                 int(lm.audioEncoder()->tokenCount(f.valid_frames)));
                const double lp_speech = direct(lm.embedPrompt(torch::tensor(speech_ids, torch::kInt64), {f}));
                const auto& o = t.outcomes[c][i];
                QCOMPARE(o.answer_tokens, int(answer.size()));
                QVERIFY2(std::abs(o.logprob_text - lp_text) < 1e-5, qPrintable(QString("%1 vs %2").arg(o.logprob_text).arg(lp_text)));
                QVERIFY2(std::abs(o.logprob_speech - lp_speech) < 1e-5,
                         qPrintable(QString("%1 vs %2").arg(o.logprob_speech).arg(lp_speech)));
                QVERIFY(std::abs(o.gap() - (lp_text - lp_speech)) < 2e-5);
            }
            for (const auto& grp : t.groups) {
                double mean = 0;
                for (int i : grp.clips) mean += t.outcomes[c][size_t(i)].gap();
                mean /= double(grp.clips.size());
                QVERIFY(std::abs(grp.cells[c].gap - mean) < 1e-12);
            }
        }
    }

    // Without a "rate" field: words of the transcript per second of audio, in 0.5 w/s buckets.
    void rateFromWordsAndDuration() {
        const auto clips = session::gapClips(request("rate"));
        const std::vector<std::string> expected{"2.0-2.5 w/s", "3.0-3.5 w/s", "2.0-2.5 w/s",
                                                "2.5-3.0 w/s", "1.5-2.0 w/s", "2.0-2.5 w/s"};
        QCOMPARE(clips.size(), expected.size());
        for (size_t i = 0; i < clips.size(); ++i) QCOMPARE(clips[i].groups, std::vector<std::string>{expected[i]});
        QCOMPARE(eval::rateBucket(0.49), std::string("0.0-0.5 w/s"));
        QVERIFY(!test::errorOf([] { eval::rateBucket(-1.0); }).isEmpty());
    }

    // Conditions (augmented clips) group like any other field; clips as recorded are in "(none)".
    void conditionGroups() {
        const auto clips = session::gapClips(request("condition"));
        for (size_t i = 0; i < clips.size(); ++i)
            QCOMPARE(clips[i].groups, i % 3 == 0 ? std::vector<std::string>{"snr=10dB,noise=white"} : std::vector<std::string>{});
    }

    // Tags: a clip is in each of its tags' groups, a clip without tags in "(none)"; sorting by the
    // last checkpoint's gap, ties by name (outcomes made up, no model).
    void tagsNoneAndSorting() {
        auto clips = session::gapClips(request("tag"));
        QCOMPARE(clips[1].groups, (std::vector<std::string>{"math", "easy"}));
        QVERIFY(clips[2].groups.empty());
        std::vector<std::vector<eval::ClipOutcome>> outcomes(2, std::vector<eval::ClipOutcome>(clips.size()));
        const double before[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, after[] = {1.0, 0.0, 0.5, -1.0, 1.0, 0.7};
        for (size_t i = 0; i < clips.size(); ++i) {
            outcomes[0][i].logprob_text = before[i];
            outcomes[1][i].logprob_text = after[i];
            outcomes[1][i].speech_correct = i % 2 == 0;
        }
        const auto t = eval::buildGapTable(eval::GroupField::Tag, {"before", "after"}, {"a", "b"}, clips, outcomes);
        // math {c0, c1, c4}: mean 2/3; (none) {c2, c5}: 0.6; easy {c1, c3}: -0.5.
        QCOMPARE(int(t.groups.size()), 3);
        QCOMPARE(t.groups[0].name, std::string("math"));
        QCOMPARE(t.groups[1].name, std::string("(none)"));
        QCOMPARE(t.groups[2].name, std::string("easy"));
        QCOMPARE(t.groups[0].clips, (std::vector<int>{0, 1, 4}));
        QVERIFY(std::abs(t.groups[0].cells[1].gap - 2.0 / 3.0) < 1e-12);
        QVERIFY(std::abs(t.groups[1].cells[0].gap - 0.45) < 1e-12);
        QVERIFY(std::abs(t.groups[0].cells[1].speech - 200.0 / 3.0) < 1e-9);  // c0, c4 of 3
        QCOMPARE(eval::contrastClip(t, 1, 1), 4);   // "the thing two": c4, the other rendition
        QCOMPARE(eval::contrastClip(t, 2, 1), -1);  // c2's question is asked once
        // Equal gaps keep the names' order.
        std::vector<std::vector<eval::ClipOutcome>> flat(1, std::vector<eval::ClipOutcome>(clips.size()));
        const auto tie = eval::buildGapTable(eval::GroupField::Tag, {"x"}, {"x"}, clips, flat);
        QCOMPARE(tie.groups[0].name, std::string("(none)"));
        QCOMPARE(tie.groups[1].name, std::string("easy"));
        const json j = eval::gapTableJson(t);
        QCOMPARE(j["groups"][0]["clips"], json({"c0", "c1", "c4"}));
        QVERIFY(eval::gapTableText(t).find("math") < eval::gapTableText(t).find("easy"));
    }

    // A run's columns: before = its run.json student folder, after = its latest checkpoint.
    void runColumns() {
        const std::string run = dir_.filePath("run").toStdString();
        distill::DistillConfig c;
        c.student = {distill::ModelSourceKind::Hf, m1_};
        c.teacher = {distill::ModelSourceKind::Hf, m2_};
        c.data.manifest = manifest_;
        run::RunFolder(run).create(c);
        QVERIFY(test::errorOf([&] { session::runGapCheckpoints(run); }).contains("no complete checkpoint"));
        std::filesystem::create_directories(run + "/checkpoints");
        std::filesystem::copy(m2_, run + "/checkpoints/step-000003", std::filesystem::copy_options::recursive);
        run::writeLatestCheckpoint(run, 3);
        const auto cols = session::runGapCheckpoints(run);
        QCOMPARE(int(cols.size()), 2);
        QCOMPARE(cols[0].name, std::string("before"));
        QCOMPARE(cols[0].folder, m1_);
        QCOMPARE(cols[1].name, std::string("after step-000003"));
        QCOMPARE(cols[1].folder, run::latestCheckpoint(run));
        QCOMPARE(session::folderGapCheckpoint(m2_ + "/").name, std::string("m2"));
    }

    void badInputIsRefused() {
        const QString e = test::errorOf([] { eval::parseGroupField("speed"); });
        QVERIFY2(e.contains("--by 'speed'") && e.contains("voice, accent, rate, condition, tag or category"), qPrintable(e));
        // A field value that is an object names the file, the line and the field.
        const std::string bad = dir_.filePath("bad.jsonl").toStdString();
        std::ofstream(bad) << json{{"id", "a"}, {"accent", {{"x", 1}}}}.dump() << "\n";
        const QString e2 = test::errorOf([&] { data::promptFieldValues(bad, "accent"); });
        QVERIFY2(e2.contains("bad.jsonl' line 1: accent"), qPrintable(e2));
        auto r = request("accent");
        r.checkpoints.clear();
        QVERIFY(test::errorOf([&] { session::exploreGaps(r); }).contains("no checkpoint"));
        // A stop request ends the work before the next checkpoint is loaded.
        std::atomic<bool> stop{true};
        QVERIFY(test::errorOf([&] { session::exploreGaps(request("voice"), {}, &stop); }).contains("stopped"));
    }

    // The CLI: a table on stdout, the JSON written to a file; a bad --by exits 1 with the message.
    void cli() {
        const QString out = dir_.filePath("gaps.json");
        const auto r = test::runCli({"eval", "--by", "accent", "--checkpoint", QString::fromStdString(m1_), "--checkpoint",
                                     QString::fromStdString(m2_) + "/", "--prompts", QString::fromStdString(manifest_),
                                     "--max-new-tokens", "4", "--json", out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("gap explorer: by accent, 6 clips, 1 groups") && r.out.contains("(none)"), qPrintable(r.out));
        std::ifstream in(out.toStdString());
        const json j = json::parse(in);
        QCOMPARE(j["by"].get<std::string>(), std::string("accent"));
        QCOMPARE(j["checkpoints"][1]["name"].get<std::string>(), std::string("m2"));
        QCOMPARE(j["groups"][0]["name"].get<std::string>(), std::string("(none)"));
        QCOMPARE(j["groups"][0]["count"].get<int>(), 6);
        QVERIFY(!QFileInfo::exists(out + ".tmp-" + QString::number(QCoreApplication::applicationPid())));
        const auto bad = test::runCli({"eval", "--by", "speed", "--model", QString::fromStdString(m1_), "--prompts",
                                       QString::fromStdString(manifest_)});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("--by 'speed': unknown grouping"), qPrintable(bad.err));
    }
};

QTEST_APPLESS_MAIN(TestGapBreakdown)
#include "test_gap_breakdown.moc"

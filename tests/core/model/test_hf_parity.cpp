// Parity with Hugging Face `transformers` itself: tiny random Qwen2, Qwen2-Audio and Qwen2.5-Omni
// models saved by `save_pretrained`, with their float64 outputs on fixed inputs, and
// WhisperFeatureExtractor features of fixed waveforms (tests/data/hf_parity/, made on the GPU
// machine by tests/gpu/run-gpu-checks.sh through tests/reference/hf_parity/make_fixtures.py, since
// no development machine has transformers). The folders are loaded through our own loaders
// (loadModel) and every output compared at fp32 tolerance: atol 1e-5, rtol 1e-4. Whisper features:
// our Float64 front end against the extractor's numpy path at the same tolerance, and against its
// default torch (float32 STFT) path at atol 5e-3 (float32 STFT noise, WhisperFeatures.h).
// Without the fixture folder every case skips with a message saying where the fixtures come from.
#include "ModelTestUtil.h"

#include "core/audio/WhisperFeatures.h"
#include "core/common/TorchRuntime.h"
#include "core/model/runtime/PromptBatch.h"
#include "core/model/runtime/SpeechLm.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace xopd::model;
using xopd::test::allClose;

namespace {
constexpr double kAtol = 1e-5, kRtol = 1e-4;

/// tests/data/hf_parity, or $XOPD_HF_PARITY_DIR (to check a freshly made folder before committing it).
QString fixtureDir() {
    const QString env = qEnvironmentVariable("XOPD_HF_PARITY_DIR");
    return env.isEmpty() ? xopd::test::sourceDir() + "/tests/data/hf_parity" : env;
}

const char* kMissing =
    "tests/data/hf_parity is absent: the Hugging Face parity fixtures are made on the GPU machine by "
    "tests/gpu/run-gpu-checks.sh (tests/reference/hf_parity/make_fixtures.py needs transformers)";

std::vector<int64_t> toVector(const torch::Tensor& t) {
    torch::Tensor c = t.to(torch::kInt64).contiguous();
    return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
}  // namespace

class TestHfParity : public QObject {
    Q_OBJECT
    nlohmann::json manifest_;

    /// Skips (with the reason) unless the fixture of `name` exists and was made without error.
    bool present(const std::string& name, QString* folder) {
        *folder = fixtureDir() + "/" + QString::fromStdString(name);
        if (!manifest_.contains("models") || !manifest_["models"].contains(name)) return false;
        const auto& m = manifest_["models"][name];
        return m.value("ok", false) && QDir(*folder).exists();
    }

private slots:
    void initTestCase() {
        xopd::configureThreads(2);
        const QString m = fixtureDir() + "/manifest.json";
        if (!QFileInfo::exists(m)) QSKIP(kMissing);
        std::ifstream in(m.toStdString());
        manifest_ = nlohmann::json::parse(in);
        qInfo("fixtures from transformers %s, torch %s", manifest_.value("transformers", "?").c_str(),
              manifest_.value("torch", "?").c_str());
    }

    void qwen2Logits() {
        QString folder;
        if (!present("qwen2", &folder)) QSKIP("qwen2 fixture not made (see manifest.json)");
        torch::NoGradGuard ng;
        SpeechLm lm = loadModel(folder.toStdString());
        auto ref = xopd::SafetensorsFile::open((folder + "/parity.safetensors").toStdString());
        std::vector<PromptInput> prompts;
        std::vector<int64_t> lengths;
        for (int b = 0; ref->has("ids." + std::to_string(b)); ++b) {
            auto ids = toVector(ref->tensor("ids." + std::to_string(b)));
            lengths.push_back(static_cast<int64_t>(ids.size()));
            prompts.push_back(PromptInput::fromIds(ids));
        }
        QVERIFY(!prompts.empty());
        // All sequences as one left-padded batch (HF ran each alone, unpadded).
        PaddedBatch batch = padBatch(lm.decoder(), prompts);
        DecoderInput di;
        di.input_ids = batch.input_ids;
        di.attention_mask = batch.attention_mask;
        di.output_hidden_states = true;
        DecoderOutput o = lm.decoder().forward(di);
        const int64_t P = batch.prompt_columns;
        for (size_t b = 0; b < prompts.size(); ++b) {
            const int64_t L = lengths[b];
            const std::string tag = "qwen2 sequence " + std::to_string(b);
            QVERIFY(allClose(o.logits[b].narrow(0, P - L, L), ref->tensor("logits." + std::to_string(b)), kAtol, kRtol,
                             tag + " logits"));
            for (size_t i = 0; i < o.hidden_states.size(); ++i) {
                const std::string key = "hidden." + std::to_string(b) + "." + std::to_string(i);
                QVERIFY2(ref->has(key), key.c_str());
                QVERIFY(allClose(o.hidden_states[i][b].narrow(0, P - L, L), ref->tensor(key), kAtol, kRtol,
                                 tag + " hidden " + std::to_string(i)));
            }
        }
    }

    void speechLogits_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("qwen2-audio") << "qwen2_audio";
        QTest::newRow("qwen2.5-omni") << "qwen2_5_omni";
    }
    void speechLogits() {
        QFETCH(QString, name);
        QString folder;
        if (!present(name.toStdString(), &folder)) QSKIP("fixture not made (see manifest.json)");
        torch::NoGradGuard ng;
        SpeechLm lm = loadModel(folder.toStdString());
        QVERIFY(lm.hasAudio());
        auto ref = xopd::SafetensorsFile::open((folder + "/parity.safetensors").toStdString());
        auto lens = toVector(ref->tensor("mel_len"));
        std::vector<AudioFeatures> clips;
        for (size_t i = 0; i < lens.size(); ++i) {
            AudioFeatures a;
            a.mel = ref->tensor("mel." + std::to_string(i)).to(torch::kFloat32).contiguous();
            a.valid_frames = lens[i];
            clips.push_back(a);
        }
        AudioEncoding enc = lm.audioEncoder()->encode(clips);
        QCOMPARE(enc.token_counts, toVector(ref->tensor("counts")));
        QVERIFY(allClose(enc.embeddings, ref->tensor("audio"), kAtol, kRtol, name.toStdString() + " audio embeddings"));

        torch::Tensor ids = ref->tensor("ids").to(torch::kInt64);
        torch::Tensor embeds = lm.embedPrompt(ids, clips);
        DecoderInput di;
        di.inputs_embeds = embeds.unsqueeze(0);
        DecoderOutput o = lm.decoder().forward(di);
        QVERIFY(allClose(o.logits[0], ref->tensor("logits"), kAtol, kRtol, name.toStdString() + " speech LM logits"));

        if (ref->has("text_ids")) {
            DecoderInput ti;
            ti.input_ids = ref->tensor("text_ids").to(torch::kInt64).unsqueeze(0);
            QVERIFY(allClose(lm.decoder().forward(ti).logits[0], ref->tensor("text_logits"), kAtol, kRtol,
                             name.toStdString() + " text-only logits"));
        }
    }

    void whisperFeatures_data() {
        QTest::addColumn<int>("bins");
        QTest::addColumn<int>("clip");
        QTest::newRow("80 mel, clip 0") << 80 << 0;
        QTest::newRow("128 mel, clip 0") << 128 << 0;
        QTest::newRow("128 mel, clip 1") << 128 << 1;
    }
    void whisperFeatures() {
        QFETCH(int, bins);
        QFETCH(int, clip);
        QString folder;
        if (!present("whisper", &folder)) QSKIP("whisper fixture not made (see manifest.json)");
        auto ref = xopd::SafetensorsFile::open((folder + "/features.safetensors").toStdString());
        const std::string c = std::to_string(clip), b = std::to_string(bins);
        if (!ref->has("mel" + b + "." + c)) QSKIP("this clip / bin count is not in the fixture");
        torch::Tensor wave = ref->tensor("wave." + c).to(torch::kFloat32).contiguous();
        std::vector<float> samples(wave.data_ptr<float>(), wave.data_ptr<float>() + wave.numel());
        xopd::audio::WhisperFeatureOptions fo;
        fo.mel_bins = bins;
        fo.precision = xopd::audio::FeaturePrecision::Float64;
        auto f = xopd::audio::computeWhisperFeatures(samples, fo);
        torch::Tensor ours = torch::from_blob(f.values.data(), {bins, f.frames}, torch::kFloat32).clone();
        torch::Tensor mask = torch::from_blob(f.attention_mask.data(), {f.frames}, torch::kInt32).clone();
        QVERIFY(torch::equal(mask.to(torch::kInt64), ref->tensor("mask." + c).to(torch::kInt64)));
        if (ref->has("np" + b + "." + c))
            QVERIFY(allClose(ours, ref->tensor("np" + b + "." + c), kAtol, kRtol, "features vs numpy path"));
        else
            qWarning("numpy-path features absent from the fixture; only the torch path is compared");
        QVERIFY(allClose(ours, ref->tensor("mel" + b + "." + c), 5e-3, 0.0, "features vs torch (float32) path"));
    }
};

QTEST_APPLESS_MAIN(TestHfParity)
#include "test_hf_parity.moc"

#include "core/demokit/DemoKitBuilder.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/data/PromptSet.h"
#include "core/data/PromptSynthesis.h"
#include "core/audio/AudioFile.h"
#include "core/demokit/BeepProbe.h"
#include "core/demokit/BpeTrainer.h"
#include "core/demokit/DemoKit.h"
#include "core/demokit/DemoQuestions.h"
#include "core/eval/Evaluator.h"
#include "core/model/checkpoint/DecoderLayout.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/Scoring.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>
#include <torch/optim/adamw.h>
#include <unistd.h>
#include <csignal>
#include <cerrno>
#include <limits>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

namespace xopd::demokit {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

const std::vector<std::string> kSpecialTokens{"<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                              "<|AUDIO|>",     "<|audio_bos|>", "<|audio_eos|>"};
const char* const kSystemPrompt = "You are a helpful assistant.";

// The hub templates, shortened to the parts the demo uses (text turns; audio items for the student).
const char* const kTeacherTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const char* const kStudentTemplate =
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}{% if content['type'] == 'audio' or 'audio' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}"
    "<|audio_bos|><|AUDIO|><|audio_eos|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}"
    "<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// Restores LibTorch's thread count on scope exit.
/// One intra-op thread and no oneDNN for the duration of a build, restored on return. oneDNN's
/// convolution backward made the tower's first-step gradients differ between two processes (Adam
/// then turns the last-bit differences of near-zero gradients into ±lr steps), so kits were not
/// reproducible; LibTorch's own convolution is deterministic.
class DeterminismGuard {
public:
    explicit DeterminismGuard(int threads)
        : saved_threads_(torch::get_num_threads()), saved_mkldnn_(at::globalContext().userEnabledMkldnn()) {
        torch::set_num_threads(threads);
        at::globalContext().setUserEnabledMkldnn(false);
    }
    ~DeterminismGuard() {
        torch::set_num_threads(saved_threads_);
        at::globalContext().setUserEnabledMkldnn(saved_mkldnn_);
    }

private:
    int saved_threads_;
    bool saved_mkldnn_;
};

void say(const DemoKitOptions& o, const std::string& line) {
    if (o.progress) o.progress(line);
}

/// The build's stages in order, with their approximate share of a full build's time on two cores
/// (the progress bar's weights; the tower stage dominates).
struct StageWeight {
    const char* name;
    double weight;
};
constexpr StageWeight kStages[] = {{"speech", 0.15}, {"tokenizer", 0.01}, {"teacher", 0.07},  {"large-teacher", 0.12},
                                   {"features", 0.05}, {"tower", 0.50},  {"alignment", 0.03}, {"measuring", 0.06},
                                   {"writing", 0.01}};

/// The abort check before each step and the progress report after it (DemoKitOptions::abort, on_step).
class Steps {
public:
    explicit Steps(const DemoKitOptions& o) : o_(o) {}

    /// Throws DemoKitCancelled when the caller asks the build to stop.
    void check() const {
        if (o_.abort && o_.abort()) throw DemoKitCancelled();
    }

    /// Step `done` of `total` of `stage` is done.
    void done(const char* stage, int done, int total) {
        double start = 0, weight = 0;
        for (const auto& s : kStages) {
            if (std::string(s.name) == stage) {
                weight = s.weight;
                break;
            }
            start += s.weight;
        }
        const double part = total > 0 ? std::clamp(double(done) / total, 0.0, 1.0) : 1.0;
        fraction_ = std::max(fraction_, std::min(1.0, start + weight * part));
        if (o_.on_step) o_.on_step(DemoKitProgress{stage, done, total, fraction_});
    }

private:
    const DemoKitOptions& o_;
    double fraction_ = 0;
};

std::string fmt(double v) {
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(1);
    os << v;
    return os.str();
}

/// Deterministic initialisation: normal(0, 0.02) for matrices, ones for norm weights, zeros for biases.
class Initializer {
public:
    explicit Initializer(uint64_t seed) : gen_(at::detail::createCPUGenerator(seed)) {}
    torch::Tensor normal(std::vector<int64_t> shape, double std = 0.02) {
        return torch::randn(shape, gen_, torch::kFloat32) * std;
    }
    static torch::Tensor ones(int64_t n) { return torch::ones({n}, torch::kFloat32); }
    static torch::Tensor zeros(int64_t n) { return torch::zeros({n}, torch::kFloat32); }

private:
    at::Generator gen_;
};

model::TensorMap initDecoder(const model::DecoderConfig& c, Initializer& init) {
    model::TensorMap t;
    for (const auto& tensor : decoderTensors(model::decoderSize(c), /*with_head=*/true)) {
        const bool head = tensor.role == DecoderTensorRole::Head;
        const std::string name = head ? tensor.name : "model." + tensor.name;
        switch (tensor.role) {
            case DecoderTensorRole::Norm: t[name] = Initializer::ones(tensor.shape[0]); break;
            case DecoderTensorRole::Bias: t[name] = Initializer::zeros(tensor.shape[0]); break;
            default: t[name] = init.normal(tensor.shape); break;  // embedding, weights, head
        }
    }
    return t;
}

model::TensorMap initOmniTower(const model::AudioTowerConfig& c, const std::string& prefix, Initializer& init) {
    model::TensorMap t;
    const int64_t d = c.d_model, f = c.encoder_ffn_dim;
    const std::string p = prefix + "audio_tower.";
    // Conv stem: fan-in scaled so the first activations are O(1) for log-mel inputs in [-1, 1].
    t[p + "conv1.weight"] = init.normal({d, c.num_mel_bins, 3}, 1.0 / std::sqrt(3.0 * c.num_mel_bins));
    t[p + "conv1.bias"] = Initializer::zeros(d);
    t[p + "conv2.weight"] = init.normal({d, d, 3}, 1.0 / std::sqrt(3.0 * d));
    t[p + "conv2.bias"] = Initializer::zeros(d);
    for (int64_t i = 0; i < c.encoder_layers; ++i) {
        const std::string l = p + "layers." + std::to_string(i) + ".";
        t[l + "self_attn_layer_norm.weight"] = Initializer::ones(d);
        t[l + "self_attn_layer_norm.bias"] = Initializer::zeros(d);
        t[l + "self_attn.q_proj.weight"] = init.normal({d, d});
        t[l + "self_attn.q_proj.bias"] = Initializer::zeros(d);
        t[l + "self_attn.k_proj.weight"] = init.normal({d, d});
        t[l + "self_attn.v_proj.weight"] = init.normal({d, d});
        t[l + "self_attn.v_proj.bias"] = Initializer::zeros(d);
        t[l + "self_attn.out_proj.weight"] = init.normal({d, d});
        t[l + "self_attn.out_proj.bias"] = Initializer::zeros(d);
        t[l + "final_layer_norm.weight"] = Initializer::ones(d);
        t[l + "final_layer_norm.bias"] = Initializer::zeros(d);
        t[l + "fc1.weight"] = init.normal({f, d});
        t[l + "fc1.bias"] = Initializer::zeros(f);
        t[l + "fc2.weight"] = init.normal({d, f});
        t[l + "fc2.bias"] = Initializer::zeros(d);
    }
    t[p + "ln_post.weight"] = Initializer::ones(d);
    t[p + "ln_post.bias"] = Initializer::zeros(d);
    t[p + "proj.weight"] = init.normal({c.output_dim, d});
    t[p + "proj.bias"] = Initializer::zeros(c.output_dim);
    return t;
}

/// Sorted (name, tensor) list of a model's parameters, detached and contiguous, for writing.
NamedTensors parametersForSaving(model::SpeechLm& lm) {
    NamedTensors out;
    for (auto& [name, t] : lm.namedParameters()) out.emplace_back(name, t->detach().contiguous());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

ordered_json tokenizerConfig(const text::Tokenizer& tok, const char* chat_template) {
    ordered_json added = ordered_json::object();
    for (const auto& t : tok.addedTokens())
        added[std::to_string(t.id)] = ordered_json{{"content", t.content}, {"lstrip", false}, {"normalized", false},
                                                   {"rstrip", false},      {"single_word", false}, {"special", t.special}};
    ordered_json j;
    j["add_prefix_space"] = false;
    j["added_tokens_decoder"] = added;
    j["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"};
    j["bos_token"] = nullptr;
    j["chat_template"] = chat_template;
    j["clean_up_tokenization_spaces"] = false;
    j["eos_token"] = "<|im_end|>";
    j["errors"] = "replace";
    j["model_max_length"] = 512;
    j["pad_token"] = "<|endoftext|>";
    j["split_special_tokens"] = false;
    j["tokenizer_class"] = "Qwen2Tokenizer";
    j["unk_token"] = nullptr;
    return j;
}

void writeJson(const fs::path& path, const ordered_json& j) { writeFileAtomic(path.string(), j.dump(2) + "\n"); }

/// Writes a model folder: config.json, model.safetensors, tokenizer files, generation_config.json.
void writeModelFolder(const fs::path& dir, model::SpeechLm& lm, const std::string& tokenizer_json,
                      const text::Tokenizer& tok, const char* chat_template) {
    fs::create_directories(dir);
    writeFileAtomic((dir / "config.json").string(), model::toConfigJson(lm.config()).dump(2) + "\n");
    writeSafetensors((dir / "model.safetensors").string(), parametersForSaving(lm));
    writeFileAtomic((dir / "tokenizer.json").string(), tokenizer_json);
    writeJson(dir / "tokenizer_config.json", tokenizerConfig(tok, chat_template));
    ordered_json gen;
    gen["eos_token_id"] = model::stopTokenIds(tok);
    gen["pad_token_id"] = *tok.tokenToId("<|endoftext|>");
    gen["do_sample"] = false;
    gen["max_new_tokens"] = 16;
    writeJson(dir / "generation_config.json", gen);
}

struct TextExample {
    std::vector<int64_t> prompt;
    std::vector<int64_t> response;
};

struct SpeechExample {
    model::AudioFeatures features;
    std::vector<int64_t> prompt;  // already expanded
    std::vector<int64_t> response;
};

std::vector<int64_t> responseIds(const text::Tokenizer& tok, const std::string& answer) {
    auto ids = tok.encode(answer);
    std::vector<int64_t> out(ids.begin(), ids.end());
    out.push_back(*tok.tokenToId("<|im_end|>"));
    return out;
}

torch::Tensor meanNll(const model::ScoreResult& r) {
    const auto mask = r.response_mask.to(torch::kFloat32);
    return -(r.logprobs * mask).sum() / mask.sum();
}

/// Removes "<kit>.tmp-<pid>" folders beside the kit whose process is gone: a build killed by a
/// signal (Ctrl-C, SIGKILL) cannot remove its own, and the next build has another pid.
void removeStaleTemporaryFolders(const fs::path& final_dir) {
    const std::string prefix = final_dir.filename().string() + ".tmp-";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(final_dir.parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0 || !entry.is_directory()) continue;
        const std::string pid_text = name.substr(prefix.size());
        if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 10) continue;
        const long long pid = std::stoll(pid_text);
        if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) fs::remove_all(entry.path(), ec);
    }
}

/// One speech-training stage of the student: `steps` AdamW steps (fixed), each on `batch` training
/// clips and `probe_batch` beep clips, both pools in seeded random orders, cross-entropy on
/// audio -> answer (plus `replay_batch` questions of the text QA, in a seeded rotation, when
/// `text_replay`). `check` (may be empty) is called after every `log_every` steps (0: never) with
/// the step and the loss; the stage stops early when it returns true. Returns the steps run.
struct SpeechStage {
    const char* name;
    int batch, probe_batch, replay_batch, steps, log_every;
    bool text_replay;
    uint64_t seed;
};

struct TextReplay {
    std::vector<model::PromptInput> prompts;  // the text QA in the student's template
    std::vector<std::vector<int64_t>> responses;
};

/// Indices 0..n-1 in seeded random orders, a new order after each pass.
class IndexCursor {
public:
    IndexCursor(size_t n, uint64_t seed) : n_(static_cast<int64_t>(n)), gen_(at::detail::createCPUGenerator(seed)) {}
    size_t next() {
        if (cursor_ == 0 || cursor_ == n_) {
            order_ = torch::randperm(n_, gen_, torch::kInt64);
            cursor_ = 0;
        }
        return static_cast<size_t>(order_[cursor_++].item<int64_t>());
    }

private:
    int64_t n_;
    at::Generator gen_;
    torch::Tensor order_;
    int64_t cursor_ = 0;
};

/// Draws examples from a pool in seeded random orders (nullptr from an empty pool).
class PoolCursor {
public:
    PoolCursor(const std::vector<SpeechExample>& pool, uint64_t seed) : pool_(pool), order_(pool.size(), seed) {}
    const SpeechExample* next() { return pool_.empty() ? nullptr : &pool_[order_.next()]; }

private:
    const std::vector<SpeechExample>& pool_;
    IndexCursor order_;
};

int trainOnSpeech(model::SpeechLm& student, const std::vector<SpeechExample>& examples,
                  const std::vector<SpeechExample>& probe, const TextReplay& replay, torch::optim::Optimizer& opt,
                  const SpeechStage& stage, const std::function<bool(int, double)>& check, Steps& steps) {
    PoolCursor speech(examples, stage.seed), beeps(probe, stage.seed + 100);
    IndexCursor replay_order(replay.prompts.size(), stage.seed + 200);
    for (int step = 1; step <= stage.steps; ++step) {
        steps.check();
        std::vector<model::AudioFeatures> clips;
        std::vector<const SpeechExample*> batch;
        for (int b = 0; b < stage.batch; ++b)
            if (const auto* e = speech.next()) batch.push_back(e);
        for (int b = 0; b < stage.probe_batch; ++b)
            if (const auto* e = beeps.next()) batch.push_back(e);
        for (const auto* e : batch) clips.push_back(e->features);
        opt.zero_grad();
        const auto enc = student.audioEncoder()->encode(clips);
        std::vector<model::PromptInput> prompts;
        std::vector<std::vector<int64_t>> responses;
        int64_t offset = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            const auto ids = torch::tensor(batch[i]->prompt);
            const auto audio = enc.embeddings.narrow(0, offset, enc.token_counts[i]);
            offset += enc.token_counts[i];
            prompts.push_back(model::PromptInput::fromEmbeds(student.spliceAudio(ids, student.decoder().embed(ids), audio)));
            responses.push_back(batch[i]->response);
        }
        auto loss = meanNll(model::score(student.decoder(), prompts, responses));
        // Text replay: a decoder trained on speech alone forgets its text skills within a few
        // hundred steps; the text QA in the student's own template keeps them, as real speech LLMs
        // keep text data in their mix.
        if (stage.text_replay) {
            std::vector<model::PromptInput> rp;
            std::vector<std::vector<int64_t>> rr;
            for (int b = 0; b < stage.replay_batch; ++b) {
                const size_t i = replay_order.next();
                rp.push_back(replay.prompts[i]);
                rr.push_back(replay.responses[i]);
            }
            loss = loss + meanNll(model::score(student.decoder(), rp, rr));
        }
        XOPD_CHECK(std::isfinite(loss.item<double>()),
                   "demo kit: the student's " << stage.name << " loss is not finite at step " << step);
        loss.backward();
        opt.step();
        steps.done(stage.name, step, stage.steps);
        if (check && stage.log_every > 0 && step % stage.log_every == 0 && check(step, loss.item<double>())) return step;
    }
    return stage.steps;
}

/// Trains a text teacher on the text QA for exactly `steps` full-batch AdamW steps; logs the loss
/// and the text accuracy every 100 steps.
void trainTeacher(model::SpeechLm& teacher, const std::vector<model::PromptInput>& prompts,
                  const std::vector<std::vector<int64_t>>& responses, double lr, int steps_to_run, const char* stage,
                  const std::function<double()>& accuracy, const DemoKitOptions& o, Steps& steps) {
    std::vector<torch::Tensor> params;
    for (auto& [name, t] : teacher.namedParameters()) {
        t->requires_grad_(true);
        params.push_back(*t);
    }
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(lr).weight_decay(0.01));
    for (int step = 1; step <= steps_to_run; ++step) {
        steps.check();
        opt.zero_grad();
        auto loss = meanNll(model::score(teacher.decoder(), prompts, responses));
        XOPD_CHECK(std::isfinite(loss.item<double>()), "demo kit: the " << stage << "'s training loss is not finite at step " << step);
        loss.backward();
        opt.step();
        steps.done(stage, step, steps_to_run);
        if (step % 100 == 0 || step == steps_to_run)
            say(o, std::string(stage) + " step " + std::to_string(step) + ": loss " + std::to_string(loss.item<float>()) +
                       ", text accuracy " + fmt(accuracy()) + " %");
    }
    for (auto& [name, t] : teacher.namedParameters()) t->requires_grad_(false);
}

/// A Qwen2 text model config of the given size over the kit's tokenizer.
model::ModelRuntimeConfig teacherConfig(int64_t vocab, int64_t hidden, int64_t ffn, int64_t layers, int64_t heads,
                                        int64_t kv_heads, const text::Tokenizer& tok) {
    model::ModelRuntimeConfig tc;
    tc.kind = model::ModelKind::Qwen2Text;
    auto& d = tc.text;
    d.vocab_size = vocab;
    d.hidden_size = hidden;
    d.intermediate_size = ffn;
    d.num_hidden_layers = layers;
    d.num_attention_heads = heads;
    d.num_key_value_heads = kv_heads;
    d.head_dim = hidden / heads;
    d.rms_norm_eps = 1e-6;
    d.rope_theta = 10000.0;
    d.max_position_embeddings = 512;
    d.tie_word_embeddings = false;
    d.hidden_act = "silu";
    d.eos_token_ids = model::stopTokenIds(tok);
    d.torch_dtype = "float32";
    return tc;
}

/// The known split a kit question's held-out-voice clips carry in eval.jsonl: training questions
/// "eval" (seen questions, new voices), validation "dev", test and the held-out category "test".
std::string evalSplitOf(const DemoQuestion& q) {
    if (q.split == "train") return "eval";
    if (q.split == "validation") return "dev";
    return "test";
}

/// One manifest row: the item's line with its question's category.
std::string annotatedLine(const data::PromptItem& item, const DemoQuestion& q) {
    auto row = ordered_json::parse(data::promptItemToJsonLine(item));
    row["category"] = q.category;
    return row.dump() + "\n";
}

/// Rewrites the synthesised eval.jsonl with each row's split (evalSplitOf) and category; returns
/// the items as written.
std::vector<data::PromptItem> annotateEvalManifest(const fs::path& path, const std::map<std::string, DemoQuestion>& by_text) {
    auto set = data::loadPromptSet(path.string());
    std::string out;
    for (auto& item : set.items) {
        const auto& q = by_text.at(item.transcript);
        item.split = evalSplitOf(q);
        out += annotatedLine(item, q);
    }
    writeFileAtomic(path.string(), out);
    return set.items;
}

/// Splits the synthesised train.jsonl (every question in the training voices): the training
/// questions stay in train.jsonl, the others go to pretrain.jsonl (heard only in the student's
/// build); each row gets its category. Returns {train items, pretrain items}.
std::pair<std::vector<data::PromptItem>, std::vector<data::PromptItem>> splitTrainManifest(
    const fs::path& prompts, const std::map<std::string, DemoQuestion>& by_text) {
    auto set = data::loadPromptSet((prompts / "train.jsonl").string());
    std::vector<data::PromptItem> train, pretrain;
    std::string train_out, pretrain_out;
    for (auto& item : set.items) {
        const auto& q = by_text.at(item.transcript);
        (q.split == "train" ? train_out : pretrain_out) += annotatedLine(item, q);
        (q.split == "train" ? train : pretrain).push_back(std::move(item));
    }
    writeFileAtomic((prompts / "train.jsonl").string(), train_out);
    writeFileAtomic((prompts / "pretrain.jsonl").string(), pretrain_out);
    return {std::move(train), std::move(pretrain)};
}

/// Writes beep clips as FLAC under prompts/audio and their manifest; returns the items.
std::vector<data::PromptItem> writeBeepSet(const fs::path& prompts, const std::string& manifest,
                                           const std::vector<BeepClip>& clips, const std::string& split) {
    std::vector<data::PromptItem> items;
    std::string out;
    for (const auto& c : clips) {
        data::PromptItem item;
        item.id = c.id;
        item.audio = "audio/" + c.id + ".flac";
        audio::writeAudioFile((prompts / item.audio).string(), c.audio, audio::AudioFileFormat::Flac16);
        item.transcript = kBeepTranscript;
        item.reference = beepAnswer(c.count);
        item.split = split;
        item.tags = {"probe"};
        auto row = ordered_json::parse(data::promptItemToJsonLine(item));
        row["category"] = "probe";
        out += row.dump() + "\n";
        item.audio_path = (prompts / item.audio).string();
        items.push_back(std::move(item));
    }
    writeFileAtomic((prompts / manifest).string(), out);
    return items;
}

}  // namespace

DemoKitReport buildDemoKit(const std::string& out_dir, const DemoKitOptions& o) {
    DeterminismGuard determinism(1);
    XOPD_CHECK(!out_dir.empty(), "demo kit: no output folder");
    XOPD_CHECK(!o.eval_voices.empty(), "demo kit: no held-out voices");
    const fs::path final_dir = fs::absolute(fs::path(out_dir)).lexically_normal();
    const fs::path tmp = final_dir.parent_path() / (final_dir.filename().string() + ".tmp-" + std::to_string(::getpid()));
    if (fs::is_directory(final_dir.parent_path())) removeStaleTemporaryFolders(final_dir);
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    DemoKitReport report;
    Steps steps(o);
    try {
        steps.check();
        // 1. The task and its speech: training voices speak the training questions, held-out
        //    voices every question.
        const auto questions = demoQuestions();
        checkDemoQuestionSplit(questions);
        std::vector<data::TextPrompt> texts;
        std::map<std::string, DemoQuestion> by_text;
        std::string texts_jsonl;
        for (const auto& q : questions) {
            texts.push_back({q.id, q.question, q.answer, {q.category}});
            by_text.emplace(q.question, q);
            texts_jsonl += ordered_json{{"id", q.id}, {"text", q.question}, {"reference", q.answer}, {"tags", {q.category}},
                                        {"category", q.category}, {"split", q.split}}
                               .dump() +
                           "\n";
        }
        const fs::path prompts_dir = tmp / "prompts";
        fs::create_directories(prompts_dir);
        writeFileAtomic((prompts_dir / "texts.jsonl").string(), texts_jsonl);
        data::SynthesisOptions so;
        for (const auto& v : o.train_voices) so.train_voices.push_back(data::parseVoiceSpec(v));
        for (const auto& v : o.eval_voices) so.eval_voices.push_back(data::parseVoiceSpec(v));
        so.progress = [&o, &steps](int done, int total) {
            if (done % 200 == 0 || done == total) say(o, "speech: " + std::to_string(done) + "/" + std::to_string(total) + " clips");
            steps.done("speech", done, total);
            steps.check();  // before the next clip
        };
        data::synthesizePromptSet(texts, prompts_dir.string(), so);
        const auto [train_items, pretrain_items] = splitTrainManifest(prompts_dir, by_text);
        const auto eval_items = annotateEvalManifest(prompts_dir / "eval.jsonl", by_text);
        const auto probe_train_items = writeBeepSet(prompts_dir, "probe-train.jsonl",
                                                    beepClips("train", o.probe_train_per_count, o.seed + 20), "train");
        const auto probe_items = writeBeepSet(prompts_dir, "probe.jsonl", beepClips("test", o.probe_test_per_count, o.seed + 21), "test");
        report.train_clips = static_cast<int>(train_items.size());
        report.pretrain_clips = static_cast<int>(pretrain_items.size());
        report.eval_clips = static_cast<int>(eval_items.size());
        report.probe_train_clips = static_cast<int>(probe_train_items.size());
        report.probe_clips = static_cast<int>(probe_items.size());
        say(o, "probe: " + std::to_string(report.probe_train_clips) + " training and " + std::to_string(report.probe_clips) +
                   " test clips of one to three beeps");

        // 2. Tokenizer.
        steps.check();
        std::vector<std::string> corpus{kSystemPrompt, "system\n", "user\n", "assistant\n"};
        for (const auto& q : questions) {
            corpus.push_back(q.question);
            corpus.push_back(q.answer);
        }
        const auto bpe = trainBpe(corpus, kSpecialTokens, BpeTrainOptions{o.bpe_merges, 2});
        const std::string tokenizer_json = tokenizerJson(bpe);
        writeFileAtomic((tmp / "tokenizer.json").string(), tokenizer_json);
        const auto tok = text::Tokenizer::fromFile((tmp / "tokenizer.json").string());
        fs::remove(tmp / "tokenizer.json");
        report.tokenizer_size = tok.size();
        report.vocab_size = (tok.size() + 31) / 32 * 32;  // padded rows, as real Qwen checkpoints have
        say(o, "tokenizer: " + std::to_string(bpe.merges.size()) + " merges, " + std::to_string(tok.size()) + " ids");
        steps.done("tokenizer", 1, 1);

        // 3. Teachers: the text QA of every question (the text LLM knows the whole task).
        std::vector<model::PromptInput> tprompts;
        std::vector<std::vector<int64_t>> tresponses;
        std::vector<eval::EvalPrompt> all_questions;
        for (const auto& q : questions) {
            tprompts.push_back(model::PromptInput::fromIds(model::userTurnPromptIds(tok, text::ChatTemplateKind::Qwen2Instruct, q.question, 0)));
            tresponses.push_back(responseIds(tok, q.answer));
            all_questions.push_back({q.id, "", q.question, q.answer});
        }
        eval::EvalOptions text_only;
        text_only.speech = false;
        const auto text_accuracy = [&](const model::SpeechLm& lm) {
            return *eval::evaluateModel(lm, tok, text::ChatTemplateKind::Qwen2Instruct, all_questions, text_only).scores.text;
        };
        const auto tc = teacherConfig(report.vocab_size, o.hidden_size, o.intermediate_size, o.num_layers, o.num_heads,
                                      o.num_kv_heads, tok);
        Initializer init(o.seed);
        model::SpeechLm teacher = model::buildModel(tc, initDecoder(tc.text, init), "demo teacher");
        trainTeacher(teacher, tprompts, tresponses, o.teacher_lr, o.teacher_steps, "teacher",
                     [&] { return text_accuracy(teacher); }, o, steps);
        report.teacher_steps = o.teacher_steps;
        report.teacher_text = text_accuracy(teacher);
        XOPD_CHECK(!o.check_targets || report.teacher_text >= 90.0, "demo kit: the teacher reached only " << fmt(report.teacher_text)
                                                    << " % text accuracy after " << report.teacher_steps << " steps (target >= 90 %)");
        std::optional<model::SpeechLm> large_teacher;
        if (o.large_teacher_steps > 0) {
            const auto lc = teacherConfig(report.vocab_size, o.large_hidden_size, o.large_intermediate_size, o.large_num_layers,
                                          o.large_num_heads, o.large_num_kv_heads, tok);
            Initializer large_init(o.seed + 10);
            large_teacher.emplace(model::buildModel(lc, initDecoder(lc.text, large_init), "demo larger teacher"));
            trainTeacher(*large_teacher, tprompts, tresponses, o.large_teacher_lr, o.large_teacher_steps, "large-teacher",
                         [&] { return text_accuracy(*large_teacher); }, o, steps);
            report.large_teacher_steps = o.large_teacher_steps;
            report.large_teacher_text = text_accuracy(*large_teacher);
            XOPD_CHECK(!o.check_targets || report.large_teacher_text >= 90.0,
                       "demo kit: the larger teacher reached only " << fmt(report.large_teacher_text) << " % text accuracy after "
                                                                    << report.large_teacher_steps << " steps (target >= 90 %)");
        }

        // 4. Student: fresh Omni audio tower + a copy of the teacher's decoder.
        model::ModelRuntimeConfig sc;
        sc.kind = model::ModelKind::Qwen25OmniThinker;
        sc.text = tc.text;
        sc.tensor_prefix = "thinker.";
        sc.audio.num_mel_bins = o.mel_bins;
        sc.audio.d_model = o.audio_d_model;
        sc.audio.encoder_layers = o.audio_layers;
        sc.audio.encoder_attention_heads = o.audio_heads;
        sc.audio.encoder_ffn_dim = o.audio_ffn;
        sc.audio.max_source_positions = 1500;
        sc.audio.n_window = o.n_window;
        sc.audio.output_dim = o.hidden_size;
        sc.audio_token_id = *tok.tokenToId("<|AUDIO|>");
        sc.audio_bos_token_id = *tok.tokenToId("<|audio_bos|>");
        sc.audio_eos_token_id = *tok.tokenToId("<|audio_eos|>");
        model::TensorMap st = initOmniTower(sc.audio, "thinker.", init);
        for (auto& [name, t] : teacher.namedParameters()) st["thinker." + name] = t->detach().clone();
        model::SpeechLm student = model::buildModel(sc, st, "demo student");

        // Features once per clip (valid frames only), from the written FLAC files like any consumer.
        std::map<std::string, model::AudioFeatures> features;
        const int clip_count =
            report.train_clips + report.pretrain_clips + report.eval_clips + report.probe_train_clips + report.probe_clips;
        for (const auto* items : {&train_items, &pretrain_items, &eval_items, &probe_train_items, &probe_items})
            for (const auto& item : *items) {
                steps.check();
                features[item.id] = model::audioFeaturesOfFile(item.audio_path, o.mel_bins);
                steps.done("features", static_cast<int>(features.size()), clip_count);
            }
        say(o, "features: " + std::to_string(features.size()) + " clips");
        const eval::FeatureProvider cached = [&features](const eval::EvalPrompt& p) { return features.at(p.id); };
        const auto speechExamples = [&](const std::vector<data::PromptItem>& items) {
            std::vector<SpeechExample> out;
            for (const auto& item : items) {
                const auto& f = features.at(item.id);
                out.push_back({f,
                               model::userTurnPromptIds(tok, text::ChatTemplateKind::Qwen25Omni, "",
                                                        static_cast<int>(model::audioTokenCount(f.valid_frames))),
                               responseIds(tok, *item.reference)});
            }
            return out;
        };
        // The student's speech pretraining hears every question in the training voices (a speech LLM
        // has heard broad speech before it is distilled); distillation runs train on train.jsonl only.
        auto speech_examples = speechExamples(train_items);
        for (auto& e : speechExamples(pretrain_items)) speech_examples.push_back(std::move(e));
        const auto probe_examples = speechExamples(probe_train_items);
        // The held-out-voice clips by eval.jsonl split ("eval": seen questions; "dev": validation;
        // "test": test questions and, apart, the held-out category), and the probe's test clips.
        std::map<std::string, std::vector<eval::EvalPrompt>> clips_of;
        for (const auto& item : eval_items) {
            const auto& q = by_text.at(item.transcript);
            const std::string key = q.category == kHeldOutCategory ? "category" : item.split;
            clips_of[key].push_back({item.id, item.audio_path, item.transcript, *item.reference});
            clips_of["all"].push_back(clips_of[key].back());
        }
        for (const auto& item : probe_items) clips_of["probe"].push_back({item.id, item.audio_path, item.transcript, *item.reference});

        TextReplay replay;
        for (const auto& q : questions) {
            replay.prompts.push_back(model::PromptInput::fromIds(
                model::userTurnPromptIds(tok, text::ChatTemplateKind::Qwen25Omni, q.question, 0)));
            replay.responses.push_back(responseIds(tok, q.answer));
        }
        eval::EvalOptions speech_only;
        speech_only.text = false;
        const auto speech_accuracy = [&](const char* key) {
            const auto it = clips_of.find(key);
            if (it == clips_of.end() || it->second.empty()) return 0.0;
            return *eval::evaluateModel(student, tok, text::ChatTemplateKind::Qwen25Omni, it->second, speech_only, cached).scores.speech;
        };

        // 4a. Stage 1, the tower learns to hear: tower (and the decoder copy) trained end to end.
        {
            std::vector<torch::Tensor> tower_params, decoder_params;
            for (auto& [name, t] : student.audioEncoder()->namedParameters()) {
                t->requires_grad_(true);
                tower_params.push_back(*t);
            }
            std::vector<torch::optim::OptimizerParamGroup> groups;
            groups.emplace_back(tower_params, std::make_unique<torch::optim::AdamWOptions>(
                                                  torch::optim::AdamWOptions(o.student_lr).weight_decay(0.01)));
            if (o.student_train_decoder) {
                for (auto& [name, t] : student.decoder().namedParameters()) {
                    t->requires_grad_(true);
                    decoder_params.push_back(*t);
                }
                groups.emplace_back(decoder_params, std::make_unique<torch::optim::AdamWOptions>(
                                                        torch::optim::AdamWOptions(o.student_decoder_lr).weight_decay(0.01)));
            }
            torch::optim::AdamW opt(std::move(groups), torch::optim::AdamWOptions(o.student_lr).weight_decay(0.01));
            const SpeechStage stage{"tower",        o.student_batch, o.probe_batch, o.replay_batch, o.tower_steps, 100,
                                    o.student_train_decoder, o.seed + 1};
            trainOnSpeech(student, speech_examples, probe_examples, replay, opt, stage,
                          [&](int step, double loss) {
                              say(o, "tower step " + std::to_string(step) + ": loss " + std::to_string(loss));
                              return false;
                          },
                          steps);
            report.tower_steps = o.tower_steps;
            report.tower_speech = speech_accuracy("eval");
            report.tower_test = speech_accuracy("test");
            report.tower_probe = speech_accuracy("probe");
            say(o, "stage 1 (tower): " + std::to_string(report.tower_steps) + " steps; held-out voices, seen questions: speech " +
                       fmt(report.tower_speech) + " %, test questions " + fmt(report.tower_test) + " %; beep probe " +
                       fmt(report.tower_probe) + " %");
            for (auto& [name, t] : student.namedParameters()) t->requires_grad_(false);
        }

        // 4b. Stage 2, alignment with the LLM frozen: the projector re-initialised and trained alone.
        {
            std::vector<torch::Tensor> projector;
            for (auto& [name, t] : student.audioEncoder()->namedParameters()) {
                if (name.find("audio_tower.proj.") == std::string::npos) continue;
                torch::NoGradGuard no_grad;
                t->copy_(name.find("bias") != std::string::npos ? torch::zeros_like(*t) : init.normal(t->sizes().vec()));
                t->requires_grad_(true);
                projector.push_back(*t);
            }
            XOPD_CHECK(projector.size() == 2, "demo kit: the student's tower has no audio_tower.proj weight and bias");
            torch::optim::AdamW opt(projector, torch::optim::AdamWOptions(o.projector_lr).weight_decay(0.01));
            const SpeechStage stage{"alignment", o.student_batch, o.probe_batch, 0, o.alignment_max_steps,
                                    o.alignment_check_every, false,  o.seed + 2};
            report.alignment_steps = trainOnSpeech(student, speech_examples, probe_examples, replay, opt, stage,
                                                   [&](int step, double loss) {
                                                       const double seen = speech_accuracy("eval");
                                                       say(o, "alignment step " + std::to_string(step) + ": loss " + std::to_string(loss) +
                                                                  ", held-out voices, seen questions: speech " + fmt(seen) + " %");
                                                       return seen >= o.alignment_stop_accuracy;
                                                   },
                                                   steps);
            for (auto& [name, t] : student.namedParameters()) t->requires_grad_(false);
        }

        // 5. Final measurements on the held-out voices, split by split.
        steps.check();
        eval::EvalOptions both;
        const auto scores = [&](const char* key, bool text) {
            SplitScores r;
            const auto it = clips_of.find(key);
            if (it == clips_of.end() || it->second.empty()) return r;
            const auto s = eval::evaluateModel(student, tok, text::ChatTemplateKind::Qwen25Omni, it->second,
                                               text ? both : speech_only, cached).scores;
            r.speech = *s.speech;
            if (text) r.text = *s.text;
            return r;
        };
        report.seen = scores("eval", true);
        report.validation = scores("dev", true);
        report.test = scores("test", true);
        report.category = scores("category", true);
        report.probe = scores("probe", false);
        const SplitScores all = scores("all", true);
        report.student_speech = all.speech;
        report.student_text = all.text;
        const auto line = [](const char* name, const SplitScores& s) {
            return std::string(name) + " S " + fmt(s.speech) + " %" + (s.text >= 0 ? ", T " + fmt(s.text) + " %" : "");
        };
        say(o, "measured: teacher T " + fmt(report.teacher_text) + " %" +
                   (large_teacher ? ", larger teacher T " + fmt(report.large_teacher_text) + " %" : "") + "; student " +
                   line("seen questions", report.seen) + "; " + line("validation", report.validation) + "; " +
                   line("test", report.test) + "; " + line("held-out category", report.category) + "; " +
                   line("beep probe", report.probe));
        XOPD_CHECK(!o.check_targets || report.teacher_text - report.student_speech >= 20.0,
                   "demo kit: the student's speech accuracy " << fmt(report.student_speech) << " % is less than 20 points below the teacher's text accuracy "
                                                              << fmt(report.teacher_text) << " %");
        XOPD_CHECK(!o.check_targets || report.probe.speech >= 60.0,
                   "demo kit: the student counts the beeps of only " << fmt(report.probe.speech) << " % of the probe's clips (target >= 60 %)");
        steps.done("measuring", 1, 1);

        // 6. Write the models and kit.json.
        steps.check();
        writeModelFolder(tmp / "teacher", teacher, tokenizer_json, tok, kTeacherTemplate);
        if (large_teacher) writeModelFolder(tmp / "teacher-large", *large_teacher, tokenizer_json, tok, kTeacherTemplate);
        writeModelFolder(tmp / "student", student, tokenizer_json, tok, kStudentTemplate);
        ordered_json pre;
        pre["chunk_length"] = 30;
        pre["dither"] = 0.0;
        pre["feature_extractor_type"] = "WhisperFeatureExtractor";
        pre["feature_size"] = o.mel_bins;
        pre["hop_length"] = 160;
        pre["n_fft"] = 400;
        pre["n_samples"] = 480000;
        pre["nb_max_frames"] = 3000;
        pre["padding_side"] = "right";
        pre["padding_value"] = 0.0;
        pre["processor_class"] = "Qwen2_5OmniProcessor";
        pre["return_attention_mask"] = true;
        pre["sampling_rate"] = 16000;
        pre["xopd_note"] = "demo kit: " + std::to_string(o.mel_bins) +
                           " mel bins (the Whisper <= large-v2 filter bank) instead of Qwen2.5-Omni's 128; "
                           "the tiny tower's conv1 takes this many channels";
        writeJson(tmp / "student" / "preprocessor_config.json", pre);

        std::map<std::string, int> split_counts;
        for (const auto& q : questions) ++split_counts[q.category == kHeldOutCategory ? std::string("held-out category") : q.split];
        const auto scoresJson = [](const SplitScores& s) {
            ordered_json j{{"speech", s.speech}};
            if (s.text >= 0) j["text"] = s.text;
            return j;
        };
        ordered_json kit;
        kit["format"] = "xopd-demo-kit";
        kit["version"] = kDemoKitVersion;
        kit["teacher"] = "teacher";
        kit["student"] = "student";
        if (large_teacher) kit["teacher_large"] = "teacher-large";
        kit["prompts"] = {{"train", "prompts/train.jsonl"},     {"eval", "prompts/eval.jsonl"},
                          {"pretrain", "prompts/pretrain.jsonl"}, {"texts", "prompts/texts.jsonl"},
                          {"probe", "prompts/probe.jsonl"},       {"probe_train", "prompts/probe-train.jsonl"}};
        kit["task"] = {{"questions", questions.size()},
                       {"split", "by question: train.jsonl = the training questions in the training voices (what "
                                 "distillation runs train on); pretrain.jsonl = the other questions in the training "
                                 "voices, heard only in the student's build (its speech pretraining); eval.jsonl = every "
                                 "question in the held-out voices, rows split 'eval' (training questions), 'dev' "
                                 "(validation questions), 'test' (test questions and the held-out category)"},
                       {"questions_per_split", split_counts},
                       {"held_out_category", kHeldOutCategory},
                       {"probe", "count the beeps (one, two, three) of audio-only clips: learned in the build "
                                 "(probe-train.jsonl), never trained afterwards; probe.jsonl measures it"},
                       {"train_voices", o.train_voices},
                       {"eval_voices", o.eval_voices},
                       {"match", "exact (normalised)"}};
        kit["build"] = {{"seed", o.seed},
                        {"stopping", "teachers and stage 1: fixed step counts; stage 2: until the held-out voices' "
                                     "speech accuracy on the training questions reaches alignment_stop_accuracy "
                                     "(checked every alignment_check_every steps; never on validation or test)"},
                        {"alignment_stop_accuracy", o.alignment_stop_accuracy},
                        {"alignment_check_every", o.alignment_check_every},
                        {"teacher_steps", report.teacher_steps},
                        {"large_teacher_steps", report.large_teacher_steps},
                        {"tower_steps", report.tower_steps},
                        {"alignment_steps", report.alignment_steps},
                        {"tower_seen_speech_accuracy", report.tower_speech},
                        {"tower_test_speech_accuracy", report.tower_test},
                        {"tower_probe_accuracy", report.tower_probe},
                        {"student_train_decoder", o.student_train_decoder},
                        {"student_decoder_lr", o.student_decoder_lr},
                        {"projector_lr", o.projector_lr},
                        {"probe_batch", o.probe_batch},
                        {"bpe_merges", bpe.merges.size()},
                        {"tokenizer_size", report.tokenizer_size},
                        {"vocab_size", report.vocab_size},
                        {"libtorch", TORCH_VERSION},
                        {"determinism", "byte-identical on a rebuild on the same machine with the same LibTorch; on "
                                        "another CPU or LibTorch/BLAS build the same steps run, the weights and "
                                        "accuracies may differ"}};
        kit["measured"] = {{"teacher_text_accuracy", report.teacher_text},
                           {"student_speech_accuracy", report.student_speech},
                           {"student_text_accuracy", report.student_text},
                           {"student_by_split", {{"seen_questions", scoresJson(report.seen)},
                                                 {"validation", scoresJson(report.validation)},
                                                 {"test", scoresJson(report.test)},
                                                 {"held_out_category", scoresJson(report.category)},
                                                 {"probe", scoresJson(report.probe)}}},
                           {"eval_clips", report.eval_clips},
                           {"train_clips", report.train_clips},
                           {"pretrain_clips", report.pretrain_clips},
                           {"probe_train_clips", report.probe_train_clips},
                           {"probe_clips", report.probe_clips}};
        if (large_teacher) kit["measured"]["large_teacher_text_accuracy"] = report.large_teacher_text;
        writeJson(tmp / "kit.json", kit);

        // 7. Into place (the last moment a cancel is honoured).
        steps.check();
        if (fs::exists(final_dir)) fs::remove_all(final_dir);
        fs::rename(tmp, final_dir);
        steps.done("writing", 1, 1);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
    return report;
}

}  // namespace xopd::demokit

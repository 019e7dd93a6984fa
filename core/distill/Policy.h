#pragma once
// The trainer's view of a language model: sample responses to prompts under a given input modality,
// and return the logits of given response tokens (teacher forcing). Student and teacher implement
// the same interface; the trainer never sees model internals. Adapters wrap the real speech LM /
// Qwen2 decoder (core/model) and the built-in toy model (ToyPolicy.h).
//
// Alignment: teacher and student prompts differ in length (audio placeholders vs transcript), so
// everything here is indexed by response position only: responseLogits(...)[n, t] predicts
// tokens[n, t] given the row's prompt and tokens[n, <t].
//
// Threading: a policy is used by one thread at a time (the run's worker). Lifetime: owned by the
// trainer (std::shared_ptr), outlives every call.

#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/data/PromptSet.h"
#include "core/model/runtime/Generation.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xopd::distill {

/// Input modality of a prompt. Zero is invalid.
enum class Stream {
    Invalid = 0,
    Speech,  ///< student hears the audio S (cross-modal stream, A_cm)
    Text,    ///< student reads the transcript T (in-modal stream, A_im); the teacher always reads T
};

/// "speech" / "text".
inline const char* streamName(Stream s) { return s == Stream::Speech ? "speech" : s == Stream::Text ? "text" : "invalid"; }

/// One prompt pair of the training set: the prompt set's own item (data/PromptSet.h): transcript
/// T (teacher input; student text-stream input), audio_path S ("" when the policy synthesises it),
/// optional reference answer (SFT).
using data::PromptItem;

/// Sampling knobs for one call: the runtime's own options (model/runtime/Generation.h). A policy
/// reads temperature, top_p, top_k and max_new_tokens; it sets the seed (drawn from the generator it
/// is given), the stop ids, the masked ids and the pad id itself.
using model::SamplingOptions;

/// Right-padded sampled responses. Row r belongs to prompt prompt_index[r].
struct Rollouts {
    torch::Tensor tokens;    ///< [N, L] int64 (0 beyond a row's length)
    torch::Tensor logprobs;  ///< [N, L] float32, sampler's log π_old of each sampled token (0 = pad)
    torch::Tensor mask;      ///< [N, L] bool, true on real response tokens (stop token included)
    std::vector<int64_t> prompt_index;  ///< [N] index into the prompt vector given to sample()
    std::vector<uint8_t> eos;           ///< [N] 1 when the row ended with a stop token
    std::vector<uint8_t> truncated;     ///< [N] 1 when it hit max_new_tokens
    int64_t rows() const { return tokens.defined() ? tokens.size(0) : 0; }
};

/// Top-k (id, log-prob) pairs per position of one row, best first.
using TopkRow = std::vector<std::vector<std::pair<int32_t, float>>>;

/// A teacher's log-probs of given response tokens, from a model that returns no logits (a served
/// teacher, RemoteTeacher.h): at temperature 1, over its whole vocabulary.
struct ResponseTokenScores {
    torch::Tensor logprobs;           ///< [N, L] float32, CPU: log p(tokens[n, t] | prompt, tokens[n, <t]); 0 beyond a row
    std::map<int64_t, TopkRow> topk;  ///< per requested row: each position's alternatives
};

/// What happened inside a model during one step, beyond its outputs (StepMetrics keys).
struct ModelStepStatistics {
    std::map<std::string, double> scalars;     ///< e.g. "moe/router_entropy"
    std::map<std::string, std::string> json;   ///< e.g. "moe/tokens_per_expert"
};

class Policy {
public:
    virtual ~Policy() = default;

    /// m responses per prompt under the stream's context, no gradient. Rows are ordered prompt-major
    /// (prompt 0's m rows first). Sampling draws only from `generator` (reproducible).
    virtual Rollouts sample(const std::vector<PromptItem>& prompts, Stream stream, int64_t m,
                            const SamplingOptions& options, torch::Generator& generator) = 0;

    /// Logits [N, L, V] (float32) for response tokens [N, L] of rows whose prompts are
    /// prompts[prompt_index[r]], under the stream's context. Differentiable when grad mode is on.
    virtual torch::Tensor responseLogits(const std::vector<PromptItem>& prompts,
                                         const std::vector<int64_t>& prompt_index, Stream stream,
                                         const torch::Tensor& tokens, const torch::Tensor& mask) = 0;

    /// Parameters the optimizer updates (after freezing / LoRA wrapping). Empty for a teacher.
    virtual std::vector<torch::Tensor> trainableParameters() = 0;
    /// Named trainable tensors, for checkpoints (LoRA: the adapter tensors in PEFT naming).
    virtual std::vector<std::pair<std::string, torch::Tensor>> trainableState() = 0;
    /// Loads tensors saved from trainableState() (names must match). Throws xopd::Error naming `source`.
    virtual void loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                    const std::string& source) = 0;
    /// Writes a checkpoint in the model's own folder format into `folder` (exists, empty):
    /// config.json + model.safetensors (full) or adapter_config.json + adapter_model.safetensors (LoRA).
    virtual void saveCheckpoint(const std::string& folder) = 0;

    /// Rows of the output layer (may include padded rows).
    virtual int64_t vocabSize() const = 0;
    /// [vocabSize()] bool on CPU: true where an id is a real, shared, comparable token (model-formats §12).
    virtual torch::Tensor comparableIds() const = 0;
    /// Ids that end a response.
    virtual std::vector<int64_t> stopIds() const = 0;
    /// Text of one token (whitespace kept).
    virtual std::string tokenText(int64_t id) const = 0;
    /// Token ids of an answer text (for SFT references).
    virtual std::vector<int64_t> encodeAnswer(const std::string& text) const = 0;
    /// Device of the model.
    virtual torch::Device device() const = 0;
    /// Statistics gathered by the differentiable passes (responseLogits with grad on) since the
    /// last call; the trainer adds them to the step's metrics. Default: none.
    virtual ModelStepStatistics takeStepStatistics() { return {}; }
    /// False for a teacher that returns log-probs of given tokens but no logits (a served model):
    /// the scorer then calls responseTokenScores() instead of responseLogits().
    virtual bool returnsLogits() const { return true; }
    /// Log-probs of response tokens [N, L] (mask [N, L]) of rows whose prompts are
    /// prompts[prompt_index[r]] under the stream's context, with `topk` alternatives for the rows in
    /// `topk_rows`. Only for policies whose returnsLogits() is false.
    virtual ResponseTokenScores responseTokenScores(const std::vector<PromptItem>& prompts,
                                                    const std::vector<int64_t>& prompt_index, Stream stream,
                                                    const torch::Tensor& tokens, const torch::Tensor& mask,
                                                    const std::set<int64_t>& topk_rows, int64_t topk) {
        (void)prompts, (void)prompt_index, (void)stream, (void)tokens, (void)mask, (void)topk_rows, (void)topk;
        XOPD_FAIL(describe() << ": returns logits, not token scores");
    }
    /// Short description for logs ("toy(V=32, d=32)", "qwen2 0.5B bf16 cuda:0").
    virtual std::string describe() const = 0;
};

}  // namespace xopd::distill

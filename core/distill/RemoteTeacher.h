#pragma once
// The trainer's teacher served over HTTP (xopd serve, vLLM, SGLang; README "A teacher over HTTP"):
// a Policy that returns the log-probs of given tokens (returnsLogits() is false), so X-OPD and SFT
// runs use it exactly where they would use an in-process teacher (RolloutScorer).
//
// The prompt is rendered here, with the teacher's own tokenizer and chat template read from a local
// folder (tokenizer files + config.json; the weights are not read), and sent as token ids: teacher
// prompt + the student's response, one request per row, up to `concurrency` in flight.
//
// Before the first scores (on first use, so an unreachable server pauses the run instead of
// failing it) connect() reads the model card and checks the tokenizer: the served tokenizer.json's
// sha256 and vocabulary size when the server says them (xopd serve), and a probe request of a known
// sentence whose ids must come back at the same positions, with the same token texts where the
// server names them (vLLM decoded_token, SGLang's text). A mismatch is an xopd::Error: the run fails
// before its first step. An unreachable server is serve::TeacherUnreachable: the run pauses.
//
// Threading: one thread at a time. Lifetime: plain; holds no connection between calls.

#include "core/distill/Policy.h"
#include "core/model/runtime/VocabAlignment.h"
#include "core/serve/TeacherClient.h"

#include <memory>
#include <string>

namespace xopd::distill {

/// How to reach a served teacher.
struct RemoteTeacherOptions {
    /// URL, API, key, timeouts.
    serve::TeacherClientOptions client;
    /// Local folder with the served model's tokenizer files and config.json.
    std::string tokenizer_folder;
};

class RemoteTeacher : public Policy {
public:
    /// Reads the tokenizer, chat template and config of options.tokenizer_folder (throws naming
    /// it). Does not connect.
    explicit RemoteTeacher(const RemoteTeacherOptions& options);
    ~RemoteTeacher() override;

    /// Model card and tokenizer check (see the header comment); once. Throws xopd::Error on a
    /// mismatch, serve::TeacherUnreachable when the server does not answer.
    void connect();
    /// The served model's card (after connect()).
    const serve::ServedModelCard& card() const;

    /// What the vocabulary alignment needs (from the local tokenizer and config).
    model::VocabSide vocabSide(const std::string& name) const;
    /// Ids to treat as comparable ([V] bool).
    void setComparableIds(const torch::Tensor& comparable);

    bool returnsLogits() const override { return false; }
    ResponseTokenScores responseTokenScores(const std::vector<PromptItem>& prompts, const std::vector<int64_t>& prompt_index,
                                            Stream stream, const torch::Tensor& tokens, const torch::Tensor& mask,
                                            const std::set<int64_t>& topk_rows, int64_t topk) override;

    Rollouts sample(const std::vector<PromptItem>& prompts, Stream stream, int64_t m, const SamplingOptions& options,
                    torch::Generator& generator) override;
    torch::Tensor responseLogits(const std::vector<PromptItem>& prompts, const std::vector<int64_t>& prompt_index,
                                 Stream stream, const torch::Tensor& tokens, const torch::Tensor& mask) override;
    std::vector<torch::Tensor> trainableParameters() override { return {}; }
    std::vector<std::pair<std::string, torch::Tensor>> trainableState() override { return {}; }
    void loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& source) override;
    void saveCheckpoint(const std::string& folder) override;
    int64_t vocabSize() const override;
    torch::Tensor comparableIds() const override;
    std::vector<int64_t> stopIds() const override;
    std::string tokenText(int64_t id) const override;
    std::vector<int64_t> encodeAnswer(const std::string& text) const override;
    torch::Device device() const override { return torch::kCPU; }
    std::string describe() const override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace xopd::distill

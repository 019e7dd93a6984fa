#pragma once
// The OpenAI-compatible /v1/completions request as `xopd serve` reads it, and its answer, without
// the model: parsing with every check a request must pass (each failure an HTTP status and a
// message, never a crash), and the response body in OpenAI's shape with vLLM's extensions:
//
//   request   {"model"?, "prompt": [ids] | [[ids], ...], "max_tokens"? (16), "temperature"? (1),
//              "top_p"?, "top_k"?, "seed"?, "prompt_logprobs"?: k, "echo"?, "logprobs"?: k,
//              "return_tokens_as_token_ids"?, "n"? (1), "stream"? (false)}; other fields ignored.
//   answer    {"id", "object": "text_completion", "created", "model", "choices": [{"index", "text",
//              "logprobs", "finish_reason", "stop_reason", "prompt_logprobs"}], "usage"}
//   where prompt_logprobs = [null, {"<id>": {"logprob", "rank", "decoded_token"}, ...}, ...] (the
//   position's own token plus the k most likely) and, with echo, logprobs = {"tokens",
//   "token_logprobs", "top_logprobs", "text_offset"} over prompt + completion.
//
// Torch-free; pure functions. Threading: any.

#include "core/common/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace xopd::serve {

/// A request the server refuses: the HTTP status (4xx) and the message of the error body.
class RequestError : public Error {
public:
    RequestError(int status, const std::string& message) : Error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

/// What a request may ask for (the served model's limits and the server's options).
struct RequestLimits {
    std::string model;              ///< served model name ("model" must match it when given)
    int64_t vocab_size = 0;         ///< ids must be in [0, vocab_size)
    int64_t max_model_len = 0;      ///< prompt + max_tokens at most this
    int64_t max_logprobs = 20;      ///< prompt_logprobs and logprobs at most this
    int64_t max_prompts = 64;       ///< prompts in one request
};

/// One parsed /v1/completions request.
struct CompletionRequest {
    std::string model;
    std::vector<std::vector<int64_t>> prompts;  ///< at least one, each non-empty
    int64_t max_tokens = 16;                    ///< OpenAI's default
    double temperature = 1.0;                   ///< 0 = greedy
    double top_p = 1.0;
    int64_t top_k = 0;                          ///< 0 = off (vLLM's -1 is read as off)
    uint64_t seed = 0;
    bool has_seed = false;
    int64_t prompt_logprobs = -1;  ///< -1 = not asked; else k alternatives per prompt position
    int64_t logprobs = -1;         ///< -1 = not asked; else k alternatives per returned token
    bool echo = false;
    bool tokens_as_ids = false;    ///< return_tokens_as_token_ids: tokens spelled "token_id:<id>"
    /// Alternatives the scoring pass must compute (the larger of the two k).
    int64_t topkNeeded() const;
};

/// Parses and checks a request body. Throws RequestError (400, or 404 for another model name)
/// naming the field at fault.
CompletionRequest parseCompletionRequest(const std::string& body, const RequestLimits& limits);

/// Log-probs of every position of one prompt (position 0 has none).
struct PromptScores {
    std::vector<double> logprob;                                   ///< [n], entry 0 unused
    std::vector<int64_t> rank;                                     ///< [n], 1 = most likely
    std::vector<std::vector<std::pair<int64_t, double>>> topk;     ///< [n], best first
};

/// The tokens generated after one prompt.
struct Generated {
    std::vector<int64_t> tokens;
    std::vector<double> logprobs;                                  ///< of each generated token
    std::vector<std::vector<std::pair<int64_t, double>>> topk;     ///< per token (may be empty)
    bool stopped = false;                                          ///< ended with a stop token
};

/// The answer body: one choice per prompt. `decode` turns ids into text (whitespace kept).
nlohmann::json encodeCompletionResponse(const CompletionRequest& request, const std::string& model,
                                        const std::vector<PromptScores>& scores, const std::vector<Generated>& generated,
                                        const std::function<std::string(const std::vector<int64_t>&)>& decode, const std::string& id,
                                        int64_t created);

/// {"error": {"message", "type", "code"}} (OpenAI's error shape).
nlohmann::json errorBody(int status, const std::string& message);

}  // namespace xopd::serve

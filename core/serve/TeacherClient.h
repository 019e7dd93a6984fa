#pragma once
// HTTP client of a served teacher (xopd serve, vLLM, SGLang): the model card, and the log-probs of
// many token sequences, sent as concurrent requests (the server batches them), each with a
// timeout and retries with exponential backoff.
//
//   TeacherClientOptions o;  o.url = "http://gpu7:8000";  o.api = TeacherApi::Vllm;
//   o.api_key = std::getenv("TEACHER_KEY");               // never stored in a file
//   TeacherClient client(o);
//   ServedModelCard card = client.modelCard();
//   auto scores = client.score({{ids...}}, {from}, {5});   // per sequence: from, top-k
//
// Failures: a connection error, a timeout, 408, 429 or a 5xx is retried (retries times, backoff
// backoff_s, 2·backoff_s, ... capped at 8 s); when the last try fails too, TeacherUnreachable
// (an xopd::Error) says so with the last error, and the run pauses on it (RunController). Any
// other 4xx is the request's fault: xopd::Error at once, quoting the server's message.
//
// Threading: score() and modelCard() may be called from one thread at a time; score() uses up to
// `concurrency` threads of its own. Lifetime: plain value; holds no connection between calls.

#include "core/common/Error.h"
#include "core/serve/TeacherWire.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::serve {

/// The teacher server did not answer (connection refused, timeouts, 5xx) after every retry.
class TeacherUnreachable : public Error {
public:
    explicit TeacherUnreachable(const std::string& message) : Error(message) {}
};

/// Where and how to reach a served teacher.
struct TeacherClientOptions {
    /// Base URL: http://HOST:PORT (an OpenAI base URL ending in /v1 is accepted too).
    std::string url;
    /// Request shape.
    TeacherApi api = TeacherApi::Vllm;
    /// Bearer key ("" = none). Read from an environment variable by the caller.
    std::string api_key;
    /// Served model name to ask for ("" = the first the server lists).
    std::string model;
    /// Seconds to wait for a connection and for each answer.
    double timeout_s = 60.0;
    /// Retries after a failed try (0 = one try only).
    int64_t retries = 4;
    /// First backoff in seconds (doubled on each retry, at most 8 s).
    double backoff_s = 0.5;
    /// Requests in flight at once.
    int64_t concurrency = 8;
};

class TeacherClient {
public:
    /// Checks the URL (throws xopd::Error naming it); connects nothing yet.
    explicit TeacherClient(TeacherClientOptions options);

    const TeacherClientOptions& options() const { return options_; }

    /// GET /v1/models, parsed (decodeModelCard with options.model).
    ServedModelCard modelCard() const;

    /// Log-probs of positions [from[i], sequences[i].size()) of each sequence, with topk[i]
    /// alternatives each (0 = none).
    std::vector<std::vector<PositionLogprob>> score(const std::vector<std::vector<int64_t>>& sequences,
                                                    const std::vector<int64_t>& from, const std::vector<int64_t>& topk) const;

    /// The raw JSON answer to one scoring request of `ids` (the tokenizer probe reads its texts).
    nlohmann::json scoreRaw(const std::vector<int64_t>& ids, int64_t topk) const;

private:
    /// One request with retries: GET when body is null, else POST. Returns the parsed JSON body.
    nlohmann::json request(const std::string& path, const nlohmann::json* body) const;

    TeacherClientOptions options_;
    TeacherUrl url_;
};

}  // namespace xopd::serve

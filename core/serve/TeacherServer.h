#pragma once
// `xopd serve`: a text model served over HTTP in the OpenAI-compatible format (CompletionRequest.h)
// so that a trainer on another machine can use it as its teacher (RemoteTeacher, README "A teacher
// over HTTP"). Endpoints:
//
//   GET  /health          200, empty body (no key needed)
//   GET  /v1/models       {"object": "list", "data": [{"id", "object": "model", "owned_by": "xopd",
//                         "max_model_len", "xopd": {"vocab_size", "tokenizer_size",
//                         "tokenizer_sha256"}}]}
//   POST /v1/completions  CompletionRequest.h
//
// Concurrent requests are batched: the HTTP threads queue their prompts, and one model thread
// scores up to max_batch of them (at most max_batch_tokens tokens) in one forward pass, waiting at
// most batch_window_ms for the batch to fill. Generation beyond one greedy token (max_tokens > 1 or
// temperature > 0) runs request by request on the same thread.
//
// Every malformed request gets a 4xx JSON error with a message (CompletionRequest.h); a body larger
// than max_body_bytes gets 413; with an api_key every path but /health needs "Authorization: Bearer
// <key>" (else 401). The CLI refuses to bind beyond loopback without a key.
//
//   TeacherServerOptions o;  o.model_dir = "models/Qwen2.5-7B-Instruct";  o.port = 0;
//   TeacherServer server(o);          // loads the model
//   int port = server.bind();         // the port actually bound
//   server.listen();                  // blocks until stop() (from any thread)
//
// Threading: stop() may be called from any thread; the rest from one. Lifetime: owns the model.

#include <cstdint>
#include <memory>
#include <string>

namespace xopd::serve {

/// How to serve.
struct TeacherServerOptions {
    /// Hugging Face folder of the model (its decoder is served; audio towers are not used).
    std::string model_dir;
    /// Name clients ask for ("" = the folder's name).
    std::string served_model_name;
    /// Interface to bind.
    std::string host = "127.0.0.1";
    /// Port (0 = any free port; bind() returns it).
    int port = 8000;
    /// Bearer key ("" = none; then only loopback hosts are allowed by the CLI).
    std::string api_key;
    /// Device of the model ("cpu", "cuda", "cuda:N").
    std::string device = "cpu";
    /// Longest prompt + completion (0 = the model's max_position_embeddings).
    int64_t max_model_len = 0;
    /// Largest accepted request body.
    int64_t max_body_bytes = 8 << 20;
    /// Most alternatives per position (prompt_logprobs, logprobs).
    int64_t max_logprobs = 20;
    /// Prompts in one forward pass.
    int64_t max_batch = 32;
    /// Tokens in one forward pass (prompts beyond wait for the next).
    int64_t max_batch_tokens = 16384;
    /// How long the model thread waits for more prompts once one is queued.
    double batch_window_ms = 2.0;
};

class TeacherServer {
public:
    /// Loads the model and its tokenizer. Throws xopd::Error naming the folder.
    explicit TeacherServer(const TeacherServerOptions& options);
    ~TeacherServer();
    TeacherServer(const TeacherServer&) = delete;
    TeacherServer& operator=(const TeacherServer&) = delete;

    /// The name clients use.
    const std::string& modelName() const;
    /// Binds host:port; returns the port bound. Throws xopd::Error when it cannot.
    int bind();
    /// Serves until stop(). Returns false when the listener failed.
    bool listen();
    /// Stops listening and the model thread; pending requests get 503.
    void stop();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// True for 127.0.0.0/8, ::1 and "localhost": hosts no other machine can reach.
bool isLoopbackHost(const std::string& host);

}  // namespace xopd::serve

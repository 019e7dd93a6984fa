#include "core/serve/TeacherServer.h"

#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/Scoring.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/serve/CompletionRequest.h"
#include "core/serve/TeacherWire.h"
#include "core/text/Tokenizer.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace xopd::serve {
namespace {

/// One unit of model work: score a prompt (every position, top-k, rank; with `next` also the
/// greedy next token), or generate after it.
struct Job {
    std::vector<int64_t> ids;
    int64_t topk = 0;
    bool next = false;
    bool generate = false;
    model::SamplingOptions sampling;
    PromptScores scores;
    Generated generated;
    std::promise<void> done;
};

bool equalConstantTime(const std::string& a, const std::string& b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
    return diff == 0;
}

void sendJson(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

}  // namespace

bool isLoopbackHost(const std::string& host) {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

struct TeacherServer::Impl {
    TeacherServerOptions options;
    std::string name;
    model::SpeechLm lm;
    std::unique_ptr<text::Tokenizer> tokenizer;
    std::vector<int64_t> stop;
    RequestLimits limits;
    std::string tokenizer_sha;
    httplib::Server http;

    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Job>> queue;
    bool stopping = false;
    std::thread worker;
    std::atomic<uint64_t> counter{0};

    std::string decode(const std::vector<int64_t>& ids) const {
        std::vector<int32_t> v(ids.begin(), ids.end());
        try {
            return tokenizer->decode(v);
        } catch (const Error&) {
            std::string s;
            for (auto id : ids) s += "<" + std::to_string(id) + ">";  // padded rows beyond the tokenizer
            return s;
        }
    }

    // ---- The model thread.
    void run() {
        torch::NoGradGuard noGrad;  // grad mode is per thread
        while (true) {
            std::vector<std::shared_ptr<Job>> batch;
            {
                std::unique_lock<std::mutex> lock(mutex);
                cv.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) break;
                if (!queue.front()->generate) {
                    // Wait a little for more prompts: concurrent requests share one forward pass.
                    const auto until = std::chrono::steady_clock::now() +
                                       std::chrono::microseconds(int64_t(options.batch_window_ms * 1000.0));
                    cv.wait_until(lock, until, [&] { return stopping || int64_t(queue.size()) >= options.max_batch; });
                    if (stopping) break;
                }
                int64_t tokens = 0;
                while (!queue.empty() && int64_t(batch.size()) < options.max_batch) {
                    auto& j = queue.front();
                    if (j->generate) {
                        if (batch.empty()) {
                            batch.push_back(j);
                            queue.pop_front();
                        }
                        break;
                    }
                    if (!batch.empty() && tokens + int64_t(j->ids.size()) > options.max_batch_tokens) break;
                    tokens += int64_t(j->ids.size()) + 1;
                    batch.push_back(j);
                    queue.pop_front();
                }
            }
            try {
                if (batch.size() == 1 && batch[0]->generate) generate(*batch[0]);
                else score(batch);
                for (auto& j : batch) j->done.set_value();
            } catch (...) {
                for (auto& j : batch) j->done.set_exception(std::current_exception());
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& j : queue) j->done.set_exception(std::make_exception_ptr(RequestError(503, "the server is stopping")));
        queue.clear();
    }

    void score(const std::vector<std::shared_ptr<Job>>& batch) {
        std::vector<model::PromptInput> prompts;
        std::vector<std::vector<int64_t>> responses;
        int64_t k = 1;
        for (const auto& j : batch) {
            // Position 0 is the prompt; every later token is scored, and a placeholder after the
            // last one yields the next-token distribution.
            prompts.push_back(model::PromptInput::fromIds({j->ids[0]}));
            std::vector<int64_t> r(j->ids.begin() + 1, j->ids.end());
            if (j->next || r.empty()) r.push_back(0);
            responses.push_back(std::move(r));
            k = std::max(k, j->topk);
        }
        model::ScoreOptions so;
        so.top_k = k;
        so.rank = true;
        const auto s = model::score(lm.decoder(), prompts, responses, so);
        const auto lp = s.logprobs.to(torch::kCPU).to(torch::kDouble);
        const auto rank = s.rank.to(torch::kCPU);
        const auto tkId = s.topk_ids.to(torch::kCPU);
        const auto tkLp = s.topk_logprobs.to(torch::kCPU).to(torch::kDouble);
        auto lpA = lp.accessor<double, 2>();
        auto rankA = rank.accessor<int64_t, 2>();
        auto idA = tkId.accessor<int64_t, 3>();
        auto tkA = tkLp.accessor<double, 3>();
        for (size_t b = 0; b < batch.size(); ++b) {
            auto& j = *batch[b];
            const int64_t n = int64_t(j.ids.size());
            auto alternatives = [&](int64_t col, int64_t count) {
                std::vector<std::pair<int64_t, double>> v;
                for (int64_t r = 0; r < count; ++r) v.emplace_back(idA[int64_t(b)][col][r], tkA[int64_t(b)][col][r]);
                return v;
            };
            j.scores.logprob.assign(size_t(n), 0.0);
            j.scores.rank.assign(size_t(n), 0);
            j.scores.topk.assign(size_t(n), {});
            for (int64_t i = 1; i < n; ++i) {
                j.scores.logprob[size_t(i)] = lpA[int64_t(b)][i - 1];
                j.scores.rank[size_t(i)] = rankA[int64_t(b)][i - 1];
                j.scores.topk[size_t(i)] = alternatives(i - 1, j.topk);
            }
            if (j.next) {
                const auto best = alternatives(n - 1, std::max<int64_t>(1, j.topk));
                j.generated.tokens = {best[0].first};
                j.generated.logprobs = {best[0].second};
                j.generated.topk = {best};
                j.generated.stopped = std::find(stop.begin(), stop.end(), best[0].first) != stop.end();
            }
        }
    }

    void generate(Job& j) {
        const auto g = model::generate(lm.decoder(), {model::PromptInput::fromIds(j.ids)}, j.sampling);
        j.generated.tokens = g.tokens[0];
        j.generated.logprobs.assign(g.raw_logprobs[0].begin(), g.raw_logprobs[0].end());
        j.generated.stopped = g.finished[0];
    }

    std::shared_ptr<Job> submit(std::shared_ptr<Job> j) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (stopping) throw RequestError(503, "the server is stopping");
            queue.push_back(j);
        }
        cv.notify_all();
        return j;
    }

    // ---- HTTP handlers (on httplib's threads).
    nlohmann::json completions(const std::string& body) {
        const auto req = parseCompletionRequest(body, limits);
        const bool greedyOne = req.max_tokens == 1 && req.temperature == 0.0;
        const bool wantScores = req.prompt_logprobs >= 0 || (req.echo && req.logprobs >= 0) || greedyOne;
        std::vector<std::shared_ptr<Job>> scoring(req.prompts.size()), generating(req.prompts.size());
        for (size_t i = 0; i < req.prompts.size(); ++i) {
            if (wantScores) {
                auto j = std::make_shared<Job>();
                j->ids = req.prompts[i];
                j->topk = req.topkNeeded();
                j->next = greedyOne;
                scoring[i] = submit(j);
            }
            if (req.max_tokens > 0 && !greedyOne) {
                auto j = std::make_shared<Job>();
                j->ids = req.prompts[i];
                j->generate = true;
                j->sampling.temperature = req.temperature;
                j->sampling.top_p = req.top_p;
                j->sampling.top_k = req.top_k;
                j->sampling.max_new_tokens = req.max_tokens;
                j->sampling.seed = req.has_seed ? req.seed : std::random_device{}();
                j->sampling.stop_token_ids = stop;
                generating[i] = submit(j);
            }
        }
        std::vector<PromptScores> scores(req.prompts.size());
        std::vector<Generated> generated(req.prompts.size());
        for (size_t i = 0; i < req.prompts.size(); ++i) {
            if (scoring[i]) {
                scoring[i]->done.get_future().get();
                scores[i] = std::move(scoring[i]->scores);
                if (greedyOne) generated[i] = std::move(scoring[i]->generated);
            } else {
                scores[i].logprob.assign(req.prompts[i].size(), 0.0);
                scores[i].rank.assign(req.prompts[i].size(), 0);
                scores[i].topk.assign(req.prompts[i].size(), {});
            }
            if (generating[i]) {
                generating[i]->done.get_future().get();
                generated[i] = std::move(generating[i]->generated);
            }
        }
        std::ostringstream id;
        id << "cmpl-" << std::hex << std::setw(12) << std::setfill('0') << counter.fetch_add(1);
        const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        return encodeCompletionResponse(req, name, scores, generated, [this](const std::vector<int64_t>& v) { return decode(v); },
                                        id.str(), created);
    }

    nlohmann::json models() const {
        nlohmann::json m = {{"id", name},
                            {"object", "model"},
                            {"created", 0},
                            {"owned_by", "xopd"},
                            {"root", options.model_dir},
                            {"max_model_len", limits.max_model_len},
                            {"xopd",
                             {{"vocab_size", limits.vocab_size},
                              {"tokenizer_size", tokenizer->size()},
                              {"tokenizer_sha256", tokenizer_sha},
                              {"eos_token_ids", stop}}}};
        return {{"object", "list"}, {"data", nlohmann::json::array({m})}};
    }

    void routes() {
        http.set_payload_max_length(size_t(options.max_body_bytes));
        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (options.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
            const std::string got = req.get_header_value("Authorization");
            if (equalConstantTime(got, "Bearer " + options.api_key)) return httplib::Server::HandlerResponse::Unhandled;
            sendJson(res, 401, errorBody(401, got.empty() ? "missing 'Authorization: Bearer <key>' header" : "wrong API key"));
            return httplib::Server::HandlerResponse::Handled;
        });
        http.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
        http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { sendJson(res, 200, models()); });
        http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
            try {
                sendJson(res, 200, completions(req.body));
            } catch (const RequestError& e) {
                sendJson(res, e.status(), errorBody(e.status(), e.what()));
            } catch (const Error& e) {  // the model refused (an id, a length): the request's fault
                sendJson(res, 400, errorBody(400, e.what()));
            }
        });
        http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "internal error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = std::string("internal error: ") + e.what();
            } catch (...) {
            }
            sendJson(res, 500, errorBody(500, what));
        });
        http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            std::string what;
            if (res.status == 404)
                what = "no such endpoint: " + req.method + " " + req.path + " (served: GET /health, GET /v1/models, POST /v1/completions)";
            else if (res.status == 413)
                what = "request body larger than " + std::to_string(options.max_body_bytes) + " bytes";
            else
                what = "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path;
            sendJson(res, res.status, errorBody(res.status, what));
        });
    }
};

TeacherServer::TeacherServer(const TeacherServerOptions& options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.options = options;
    XOPD_CHECK(options.max_batch >= 1 && options.max_batch_tokens >= 1 && options.max_body_bytes >= 1024 && options.max_logprobs >= 0,
               "xopd serve: batch, token, body and logprob limits must be positive");
    model::LoadOptions lo;
    lo.device = torch::Device(options.device);
    d.lm = model::loadModel(options.model_dir, lo);
    d.tokenizer = std::make_unique<text::Tokenizer>(text::Tokenizer::fromFile(options.model_dir));
    d.stop = model::stopTokenIds(*d.tokenizer);
    d.tokenizer_sha = tokenizerSha256(options.model_dir);
    d.name = options.served_model_name.empty() ? std::filesystem::path(options.model_dir).lexically_normal().filename().string()
                                               : options.served_model_name;
    if (d.name.empty()) d.name = std::filesystem::path(options.model_dir).lexically_normal().parent_path().filename().string();
    const auto& c = d.lm.decoder().config();
    d.limits.model = d.name;
    d.limits.vocab_size = c.vocab_size;
    d.limits.max_model_len = options.max_model_len > 0 ? options.max_model_len : c.max_position_embeddings;
    XOPD_CHECK(d.limits.max_model_len > 0, "'" << options.model_dir << "': config.json gives no max_position_embeddings; pass --max-model-len");
    d.limits.max_logprobs = options.max_logprobs;
    d.limits.max_prompts = options.max_batch;
    d.routes();
    d.worker = std::thread([&d] { d.run(); });
}

TeacherServer::~TeacherServer() {
    stop();
    if (impl_->worker.joinable()) impl_->worker.join();
}

const std::string& TeacherServer::modelName() const { return impl_->name; }

int TeacherServer::bind() {
    auto& d = *impl_;
    int port = d.options.port;
    if (port == 0) {
        port = d.http.bind_to_any_port(d.options.host);
        XOPD_CHECK(port > 0, "xopd serve: cannot bind " << d.options.host << " (any port)");
    } else {
        XOPD_CHECK(d.http.bind_to_port(d.options.host, port),
                   "xopd serve: cannot bind " << d.options.host << ":" << port << " (in use, or not an address of this machine)");
    }
    return port;
}

bool TeacherServer::listen() { return impl_->http.listen_after_bind(); }

void TeacherServer::stop() {
    auto& d = *impl_;
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        d.stopping = true;
    }
    d.cv.notify_all();
    d.http.stop();
}

}  // namespace xopd::serve

#include "core/serve/TeacherClient.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

namespace xopd::serve {
namespace {

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

std::string describe(const std::string& method, const std::string& url, const std::string& what) {
    return method + " " + url + ": " + what;
}

}  // namespace

TeacherClient::TeacherClient(TeacherClientOptions options) : options_(std::move(options)), url_(parseTeacherUrl(options_.url)) {
    XOPD_CHECK(options_.api != TeacherApi::Invalid, "teacher at '" << options_.url << "': no API given (vllm, openai-echo, sglang)");
    XOPD_CHECK(options_.timeout_s > 0 && std::isfinite(options_.timeout_s), "teacher at '" << options_.url << "': timeout must be > 0 s");
    XOPD_CHECK(options_.retries >= 0, "teacher at '" << options_.url << "': retries must be >= 0");
    options_.concurrency = std::max<int64_t>(1, options_.concurrency);
}

nlohmann::json TeacherClient::request(const std::string& path, const nlohmann::json* body) const {
    const std::string full = url_.origin + url_.prefix + path;
    const std::string method = body ? "POST" : "GET";
    const std::string payload = body ? body->dump() : std::string();
    std::string last;
    const auto t0 = std::chrono::steady_clock::now();
    double backoff = options_.backoff_s;
    for (int64_t attempt = 0; attempt <= options_.retries; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
            backoff = std::min(8.0, backoff * 2.0);
        }
        httplib::Client cli(url_.origin);
        const auto timeout = std::chrono::duration<double>(options_.timeout_s);
        cli.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
        cli.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
        cli.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
        if (!options_.api_key.empty()) cli.set_bearer_token_auth(options_.api_key);
        const std::string target = url_.prefix + path;
        auto res = body ? cli.Post(target, payload, "application/json") : cli.Get(target);
        if (!res) {
            last = httplib::to_string(res.error());
            continue;
        }
        if (res->status == 200) {
            auto j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
            XOPD_CHECK(!j.is_discarded(), describe(method, full, "the answer is not JSON: " + errorMessageOf(res->body)));
            return j;
        }
        last = "HTTP " + std::to_string(res->status) + ": " + errorMessageOf(res->body);
        if (!retryable(res->status)) {
            if (res->status == 401 || res->status == 403)
                last += " (is the key right? it is read from the variable named by --teacher-api-key-env / teacher.api_key_env)";
            XOPD_FAIL("teacher " << describe(method, full, last));
        }
    }
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ostringstream os;
    os << "teacher at '" << options_.url << "' unreachable: " << options_.retries + 1 << " tries over " << std::lround(waited)
       << " s; last: " << describe(method, full, last);
    throw TeacherUnreachable(os.str());
}

ServedModelCard TeacherClient::modelCard() const {
    const auto j = request(modelCardPath(options_.api), nullptr);
    return decodeModelCard(options_.api, j, options_.model, options_.url);
}

nlohmann::json TeacherClient::scoreRaw(const std::vector<int64_t>& ids, int64_t topk) const {
    const auto body = encodeScoreRequest(options_.api, ids, topk, options_.model);
    return request(scoreRequestPath(options_.api), &body);
}

std::vector<std::vector<PositionLogprob>> TeacherClient::score(const std::vector<std::vector<int64_t>>& sequences,
                                                               const std::vector<int64_t>& from, const std::vector<int64_t>& topk) const {
    XOPD_CHECK(sequences.size() == from.size() && sequences.size() == topk.size(),
               "teacher scoring: " << sequences.size() << " sequences, " << from.size() << " starts, " << topk.size() << " k");
    std::vector<std::vector<PositionLogprob>> out(sequences.size());
    std::atomic<size_t> next{0};
    std::mutex errorMutex;
    std::exception_ptr error;
    auto worker = [&] {
        while (true) {
            const size_t i = next.fetch_add(1);
            if (i >= sequences.size()) return;
            {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (error) return;
            }
            try {
                out[i] = decodeScoreResponse(options_.api, scoreRaw(sequences[i], topk[i]), sequences[i], from[i], topk[i], options_.url);
            } catch (...) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (!error) error = std::current_exception();
                return;
            }
        }
    };
    const size_t n = std::min<size_t>(size_t(options_.concurrency), sequences.size());
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    return out;
}

}  // namespace xopd::serve

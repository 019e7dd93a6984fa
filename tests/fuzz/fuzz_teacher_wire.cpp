// libFuzzer entry point for a served teacher's wire formats (core/serve/TeacherWire.h,
// CompletionRequest.h). The first byte picks the API; the rest is a server's answer (or, for the
// server side, a request body). An answer must be refused with xopd::Error or decode to one entry
// per scored position with at most k alternatives, best first; a request must be refused with a
// 4xx RequestError or parse to prompts within the limits, and its answer must encode, serialise and
// decode again to the scores it was given. Anything else (another exception, a broken promise, a
// crash, an ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/serve/CompletionRequest.h"
#include "core/serve/TeacherWire.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, line);
    std::abort();
}
#define CHECK(cond) check((cond), __LINE__)

const std::vector<int64_t> kIds{9707, 11, 847, 829, 374};

void answer(xopd::serve::TeacherApi api, const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        return;
    }
    for (int64_t k : {0, 2}) {
        try {
            const auto p = xopd::serve::decodeScoreResponse(api, j, kIds, 1, k, "http://fuzz");
            CHECK(p.size() == kIds.size() - 1);
            for (const auto& e : p) {
                CHECK(int64_t(e.topk.size()) <= k);
                for (size_t i = 1; i < e.topk.size(); ++i) CHECK(e.topk[i - 1].second >= e.topk[i].second);
            }
        } catch (const xopd::Error&) {
        }
    }
    try {
        CHECK(xopd::serve::decodeTokenTexts(api, j, kIds, "http://fuzz").size() == kIds.size());
    } catch (const xopd::Error&) {
    }
    try {
        (void)xopd::serve::decodeModelCard(api, j, "", "http://fuzz");
    } catch (const xopd::Error&) {
    }
}

void request(const std::string& text) {
    xopd::serve::RequestLimits lim;
    lim.model = "m";
    lim.vocab_size = 300;
    lim.max_model_len = 64;
    lim.max_logprobs = 5;
    lim.max_prompts = 4;
    xopd::serve::CompletionRequest r;
    try {
        r = xopd::serve::parseCompletionRequest(text, lim);
    } catch (const xopd::serve::RequestError& e) {
        CHECK(e.status() >= 400 && e.status() < 500);
        return;
    }
    CHECK(!r.prompts.empty() && int64_t(r.prompts.size()) <= lim.max_prompts);
    for (const auto& p : r.prompts) {
        CHECK(!p.empty() && int64_t(p.size()) <= lim.max_model_len && int64_t(p.size()) + r.max_tokens <= lim.max_model_len);
        for (auto id : p) CHECK(id >= 0 && id < lim.vocab_size);
    }
    CHECK(r.topkNeeded() <= lim.max_logprobs);
    // The answer to it (made-up scores) encodes and reads back.
    std::vector<xopd::serve::PromptScores> scores;
    std::vector<xopd::serve::Generated> generated(r.prompts.size());
    for (const auto& p : r.prompts) {
        xopd::serve::PromptScores s;
        for (size_t i = 0; i < p.size(); ++i) {
            s.logprob.push_back(-double(i) - 0.5);
            s.rank.push_back(int64_t(i) + 1);
            s.topk.push_back({{0, -0.25}, {1, -0.5}, {2, -1.0}, {3, -2.0}, {4, -3.0}});
        }
        scores.push_back(std::move(s));
    }
    auto decode = [](const std::vector<int64_t>& v) { return std::string(v.size(), 'x'); };
    const auto body = xopd::serve::encodeCompletionResponse(r, "m", scores, generated, decode, "cmpl-0", 0);
    const auto again = nlohmann::json::parse(body.dump());
    if (r.prompt_logprobs >= 0 && r.prompts[0].size() > 1) {
        const auto p = xopd::serve::decodeScoreResponse(xopd::serve::TeacherApi::Vllm, again, r.prompts[0], 1, r.prompt_logprobs, "u");
        for (size_t i = 0; i < p.size(); ++i) CHECK(p[i].logprob == scores[0].logprob[i + 1]);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0: answer(xopd::serve::TeacherApi::Vllm, text); break;
        case 1: answer(xopd::serve::TeacherApi::OpenAiEcho, text); break;
        case 2: answer(xopd::serve::TeacherApi::Sglang, text); break;
        default: request(text); break;
    }
    return 0;
}

#include "core/serve/CompletionRequest.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace xopd::serve {
namespace {

[[noreturn]] void reject(const std::string& field, const std::string& what) {
    throw RequestError(400, "field '" + field + "': " + what);
}

std::string shown(const nlohmann::json& j) {
    std::string s = j.dump();
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

std::vector<int64_t> idsOf(const nlohmann::json& j, const std::string& field, const RequestLimits& limits) {
    if (!j.is_array()) reject(field, "expected an array of token ids, got " + shown(j));
    if (j.empty()) reject(field, "is empty (a prompt needs at least one token)");
    if (limits.max_model_len > 0 && int64_t(j.size()) > limits.max_model_len)
        reject(field, std::to_string(j.size()) + " tokens, more than the model's " + std::to_string(limits.max_model_len));
    std::vector<int64_t> ids;
    ids.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
        if (!j[i].is_number_integer())
            reject(field + "[" + std::to_string(i) + "]", "expected a token id (integer), got " + shown(j[i]));
        const int64_t id = j[i].get<int64_t>();
        if (id < 0 || id >= limits.vocab_size)
            reject(field + "[" + std::to_string(i) + "]",
                   "token id " + std::to_string(id) + " outside the vocabulary [0, " + std::to_string(limits.vocab_size) + ")");
        ids.push_back(id);
    }
    return ids;
}

int64_t integer(const nlohmann::json& j, const char* field, int64_t lo, int64_t hi) {
    if (!j.is_number_integer()) reject(field, "expected an integer, got " + shown(j));
    const int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) reject(field, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

double real(const nlohmann::json& j, const char* field, double lo, double hi) {
    if (!j.is_number()) reject(field, "expected a number, got " + shown(j));
    const double v = j.get<double>();
    if (!std::isfinite(v) || v < lo || v > hi)
        reject(field, shown(j) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

bool boolean(const nlohmann::json& j, const char* field) {
    if (!j.is_boolean()) reject(field, "expected true or false, got " + shown(j));
    return j.get<bool>();
}

std::string tokenName(int64_t id, bool asIds, const std::function<std::string(const std::vector<int64_t>&)>& decode) {
    return asIds ? "token_id:" + std::to_string(id) : decode({id});
}

}  // namespace

int64_t CompletionRequest::topkNeeded() const { return std::max<int64_t>({0, prompt_logprobs, logprobs}); }

CompletionRequest parseCompletionRequest(const std::string& body, const RequestLimits& limits) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number beyond double
        throw RequestError(400, std::string("the request body is not JSON: ") + e.what());
    }
    if (!j.is_object()) throw RequestError(400, "the request body must be a JSON object, got " + shown(j));
    CompletionRequest r;
    if (j.contains("model") && !j["model"].is_null()) {
        if (!j["model"].is_string()) reject("model", "expected a string, got " + shown(j["model"]));
        r.model = j["model"].get<std::string>();
        if (r.model != limits.model) throw RequestError(404, "the model '" + r.model + "' does not exist (this server serves '" + limits.model + "')");
    }
    if (!j.contains("prompt")) reject("prompt", "missing (token ids: [id, ...] or [[id, ...], ...])");
    const auto& p = j["prompt"];
    if (p.is_string() || (p.is_array() && !p.empty() && p[0].is_string()))
        reject("prompt", "text prompts are not served: send token ids ([id, ...] or [[id, ...], ...])");
    if (p.is_array() && !p.empty() && p[0].is_array()) {
        if (int64_t(p.size()) > limits.max_prompts)
            reject("prompt", std::to_string(p.size()) + " prompts, more than " + std::to_string(limits.max_prompts) + " in one request");
        for (size_t i = 0; i < p.size(); ++i) r.prompts.push_back(idsOf(p[i], "prompt[" + std::to_string(i) + "]", limits));
    } else {
        r.prompts.push_back(idsOf(p, "prompt", limits));
    }
    size_t longest = 0;
    for (const auto& ids : r.prompts) longest = std::max(longest, ids.size());
    const int64_t room = limits.max_model_len > 0 ? limits.max_model_len - int64_t(longest) : int64_t(1) << 30;
    if (j.contains("max_tokens") && !j["max_tokens"].is_null()) {
        r.max_tokens = integer(j["max_tokens"], "max_tokens", 0, std::max<int64_t>(0, room));
    } else {
        r.max_tokens = std::min<int64_t>(16, std::max<int64_t>(0, room));
    }
    if (j.contains("temperature") && !j["temperature"].is_null()) r.temperature = real(j["temperature"], "temperature", 0.0, 100.0);
    if (j.contains("top_p") && !j["top_p"].is_null()) {
        r.top_p = real(j["top_p"], "top_p", 0.0, 1.0);
        if (r.top_p <= 0.0) reject("top_p", "must be in (0, 1]");
    }
    if (j.contains("top_k") && !j["top_k"].is_null()) {
        r.top_k = integer(j["top_k"], "top_k", -1, limits.vocab_size);
        if (r.top_k < 0) r.top_k = 0;
    }
    if (j.contains("seed") && !j["seed"].is_null()) {
        if (!j["seed"].is_number_integer()) reject("seed", "expected an integer, got " + shown(j["seed"]));
        r.seed = j["seed"].is_number_unsigned() ? j["seed"].get<uint64_t>() : uint64_t(j["seed"].get<int64_t>());
        r.has_seed = true;
    }
    if (j.contains("prompt_logprobs") && !j["prompt_logprobs"].is_null())
        r.prompt_logprobs = integer(j["prompt_logprobs"], "prompt_logprobs", 0, limits.max_logprobs);
    if (j.contains("logprobs") && !j["logprobs"].is_null()) {
        // OpenAI's legacy completions take an integer; a boolean (the chat form) is read as 0 / off.
        if (j["logprobs"].is_boolean()) r.logprobs = j["logprobs"].get<bool>() ? 0 : -1;
        else r.logprobs = integer(j["logprobs"], "logprobs", 0, limits.max_logprobs);
    }
    if (j.contains("echo") && !j["echo"].is_null()) r.echo = boolean(j["echo"], "echo");
    if (j.contains("return_tokens_as_token_ids") && !j["return_tokens_as_token_ids"].is_null())
        r.tokens_as_ids = boolean(j["return_tokens_as_token_ids"], "return_tokens_as_token_ids");
    if (j.contains("n") && !j["n"].is_null() && integer(j["n"], "n", 1, 1) != 1) reject("n", "only 1 is served");
    if (j.contains("best_of") && !j["best_of"].is_null()) integer(j["best_of"], "best_of", 1, 1);
    if (j.contains("stream") && !j["stream"].is_null() && boolean(j["stream"], "stream"))
        reject("stream", "streaming is not served; send false or leave it out");
    if (r.echo && r.max_tokens == 0 && r.logprobs < 0 && r.prompt_logprobs < 0) {
        // echo alone: the prompt comes back as text; nothing to compute beyond it.
    }
    return r;
}

nlohmann::json encodeCompletionResponse(const CompletionRequest& req, const std::string& model,
                                        const std::vector<PromptScores>& scores, const std::vector<Generated>& generated,
                                        const std::function<std::string(const std::vector<int64_t>&)>& decode,
                                        const std::string& id, int64_t created) {
    nlohmann::json choices = nlohmann::json::array();
    int64_t promptTokens = 0, completionTokens = 0;
    for (size_t c = 0; c < req.prompts.size(); ++c) {
        const auto& ids = req.prompts[c];
        const auto& sc = scores[c];
        const auto& gen = generated[c];
        promptTokens += int64_t(ids.size());
        completionTokens += int64_t(gen.tokens.size());
        nlohmann::json choice;
        choice["index"] = c;
        std::string text = decode(gen.tokens);
        if (req.echo) text = decode(ids) + text;
        choice["text"] = text;
        choice["finish_reason"] = gen.stopped ? "stop" : "length";
        choice["stop_reason"] = nullptr;
        if (req.prompt_logprobs >= 0) {
            nlohmann::json pl = nlohmann::json::array();
            pl.push_back(nullptr);
            for (size_t i = 1; i < ids.size(); ++i) {
                nlohmann::json e = nlohmann::json::object();
                for (int64_t r = 0; r < req.prompt_logprobs && r < int64_t(sc.topk[i].size()); ++r) {
                    const auto& [tid, lp] = sc.topk[i][size_t(r)];
                    e[std::to_string(tid)] = {{"logprob", lp}, {"rank", r + 1}, {"decoded_token", decode({tid})}};
                }
                e[std::to_string(ids[i])] = {{"logprob", sc.logprob[i]}, {"rank", sc.rank[i]}, {"decoded_token", decode({ids[i]})}};
                pl.push_back(std::move(e));
            }
            choice["prompt_logprobs"] = std::move(pl);
        } else {
            choice["prompt_logprobs"] = nullptr;
        }
        if (req.logprobs >= 0) {
            nlohmann::json tokens = nlohmann::json::array(), tl = nlohmann::json::array(), top = nlohmann::json::array(),
                           offsets = nlohmann::json::array();
            int64_t offset = 0;
            auto add = [&](int64_t tid, const nlohmann::json& lp, const std::vector<std::pair<int64_t, double>>* alts) {
                const std::string name = tokenName(tid, req.tokens_as_ids, decode);
                tokens.push_back(name);
                tl.push_back(lp);
                if (!alts) {
                    top.push_back(nullptr);
                } else {
                    nlohmann::json t = nlohmann::json::object();
                    for (int64_t r = 0; r < req.logprobs && r < int64_t(alts->size()); ++r)
                        t[tokenName((*alts)[size_t(r)].first, req.tokens_as_ids, decode)] = (*alts)[size_t(r)].second;
                    if (!lp.is_null()) t[name] = lp;
                    top.push_back(std::move(t));
                }
                offsets.push_back(offset);
                offset += int64_t(decode({tid}).size());
            };
            if (req.echo)
                for (size_t i = 0; i < ids.size(); ++i)
                    add(ids[i], i == 0 ? nlohmann::json(nullptr) : nlohmann::json(sc.logprob[i]), i == 0 ? nullptr : &sc.topk[i]);
            for (size_t t = 0; t < gen.tokens.size(); ++t)
                add(gen.tokens[t], gen.logprobs[t], t < gen.topk.size() ? &gen.topk[t] : nullptr);
            choice["logprobs"] = {{"tokens", tokens}, {"token_logprobs", tl}, {"top_logprobs", top}, {"text_offset", offsets}};
        } else {
            choice["logprobs"] = nullptr;
        }
        choices.push_back(std::move(choice));
    }
    return {{"id", id},
            {"object", "text_completion"},
            {"created", created},
            {"model", model},
            {"choices", choices},
            {"usage", {{"prompt_tokens", promptTokens}, {"completion_tokens", completionTokens}, {"total_tokens", promptTokens + completionTokens}}}};
}

nlohmann::json errorBody(int status, const std::string& message) {
    const char* type = status == 401 ? "authentication_error" : status == 404 ? "not_found_error" : status == 413 ? "request_too_large"
                       : status < 500 ? "invalid_request_error" : "server_error";
    return {{"error", {{"message", message}, {"type", type}, {"code", status}}}};
}

}  // namespace xopd::serve

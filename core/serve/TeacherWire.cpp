#include "core/serve/TeacherWire.h"

#include "core/common/Error.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace xopd::serve {
namespace {

constexpr const char* kTokenIdPrefix = "token_id:";

std::string shown(const nlohmann::json& j) {
    std::string s = j.dump();
    return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

[[noreturn]] void bad(const std::string& source, const std::string& field, const std::string& what) {
    XOPD_FAIL("teacher at '" << source << "': response field '" << field << "': " << what);
}

const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& source, const std::string& field) {
    if (!j.is_object() || !j.contains(key)) bad(source, field.empty() ? key : field + "." + key, "missing");
    return j[key];
}

double number(const nlohmann::json& j, const std::string& source, const std::string& field) {
    if (!j.is_number()) bad(source, field, "expected a number, got " + shown(j));
    const double v = j.get<double>();
    if (std::isnan(v) || v > 1e-3) bad(source, field, "not a log-probability: " + shown(j));
    return v;
}

/// "123" or "token_id:123" -> 123; -1 when the text is neither.
int64_t idOfKey(const std::string& key) {
    std::string digits = key.rfind(kTokenIdPrefix, 0) == 0 ? key.substr(std::char_traits<char>::length(kTokenIdPrefix)) : key;
    if (digits.empty() || digits.size() > 12 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stoll(digits);
}

/// Sorts (id, logprob) best first and keeps k.
std::vector<std::pair<int64_t, double>> bestK(std::vector<std::pair<int64_t, double>> v, int64_t k) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (int64_t(v.size()) > k) v.resize(size_t(std::max<int64_t>(0, k)));
    return v;
}

const nlohmann::json& firstChoice(const nlohmann::json& body, const std::string& source) {
    const auto& choices = member(body, "choices", source, "");
    if (!choices.is_array() || choices.empty()) bad(source, "choices", "expected a non-empty array, got " + shown(choices));
    for (const auto& c : choices)
        if (c.is_object() && c.value("index", 0) == 0) return c;
    bad(source, "choices", "no choice with index 0");
}

const nlohmann::json& sglangMeta(const nlohmann::json& body, const std::string& source) {
    const nlohmann::json& one = body.is_array() ? (body.empty() ? body : body[0]) : body;
    return member(one, "meta_info", source, "");
}

void checkFrom(const std::vector<int64_t>& ids, int64_t from, const std::string& source) {
    XOPD_CHECK(from >= 1 && from <= int64_t(ids.size()),
               "teacher at '" << source << "': scoring from position " << from << " of a " << ids.size() << "-token prompt");
}

std::vector<PositionLogprob> decodeVllm(const nlohmann::json& body, const std::vector<int64_t>& ids, int64_t from,
                                        int64_t topk, const std::string& source) {
    const auto& pl = member(firstChoice(body, source), "prompt_logprobs", source, "choices[0]");
    const std::string f = "choices[0].prompt_logprobs";
    if (!pl.is_array()) bad(source, f, "expected an array (is prompt_logprobs supported by this server?), got " + shown(pl));
    if (pl.size() != ids.size())
        bad(source, f, "has " + std::to_string(pl.size()) + " entries for a " + std::to_string(ids.size()) + "-token prompt");
    std::vector<PositionLogprob> out;
    for (int64_t i = from; i < int64_t(ids.size()); ++i) {
        const std::string fi = f + "[" + std::to_string(i) + "]";
        const auto& e = pl[size_t(i)];
        if (!e.is_object()) bad(source, fi, "expected an object, got " + shown(e));
        const std::string own = std::to_string(ids[size_t(i)]);
        if (!e.contains(own)) bad(source, fi, "has no entry for the prompt's token " + own + " (another prompt or tokenizer?)");
        PositionLogprob p;
        std::vector<std::pair<int64_t, double>> cands;
        for (auto it = e.begin(); it != e.end(); ++it) {
            const int64_t id = idOfKey(it.key());
            if (id < 0) bad(source, fi, "key '" + it.key() + "' is not a token id");
            const auto& v = it.value();
            const double lp = number(member(v, "logprob", source, fi + "." + it.key()), source, fi + "." + it.key() + ".logprob");
            if (it.key() == own) p.logprob = lp;
            // vLLM adds the position's own token to the top k; its rank says whether it is one of them.
            const bool ranked = v.contains("rank") && v["rank"].is_number_integer();
            if (!ranked || v["rank"].get<int64_t>() <= topk) cands.emplace_back(id, lp);
        }
        p.topk = bestK(std::move(cands), topk);
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<PositionLogprob> decodeEcho(const nlohmann::json& body, const std::vector<int64_t>& ids, int64_t from,
                                        int64_t topk, const std::string& source) {
    const auto& lp = member(firstChoice(body, source), "logprobs", source, "choices[0]");
    const std::string f = "choices[0].logprobs";
    const auto& tl = member(lp, "token_logprobs", source, f);
    if (!tl.is_array() || tl.size() < ids.size())
        bad(source, f + ".token_logprobs", "expected at least " + std::to_string(ids.size()) + " entries (echo the prompt), got " + shown(tl));
    if (lp.contains("tokens") && lp["tokens"].is_array() && lp["tokens"].size() >= ids.size()) {
        for (size_t i = 0; i < ids.size(); ++i) {
            const auto& t = lp["tokens"][i];
            if (t.is_string() && t.get<std::string>().rfind(kTokenIdPrefix, 0) == 0 && idOfKey(t.get<std::string>()) != ids[i])
                bad(source, f + ".tokens[" + std::to_string(i) + "]", "is " + t.get<std::string>() + ", the prompt has " + std::to_string(ids[i]));
        }
    }
    const nlohmann::json* top = nullptr;
    if (topk > 0) {
        top = &member(lp, "top_logprobs", source, f);
        if (!top->is_array() || top->size() < ids.size())
            bad(source, f + ".top_logprobs", "expected at least " + std::to_string(ids.size()) + " entries, got " + shown(*top));
    }
    std::vector<PositionLogprob> out;
    for (int64_t i = from; i < int64_t(ids.size()); ++i) {
        const std::string fi = "[" + std::to_string(i) + "]";
        PositionLogprob p;
        p.logprob = number(tl[size_t(i)], source, f + ".token_logprobs" + fi);
        if (top) {
            const auto& e = (*top)[size_t(i)];
            if (!e.is_object()) bad(source, f + ".top_logprobs" + fi, "expected an object, got " + shown(e));
            std::vector<std::pair<int64_t, double>> cands;
            for (auto it = e.begin(); it != e.end(); ++it) {
                if (it.key().rfind(kTokenIdPrefix, 0) != 0 || idOfKey(it.key()) < 0)
                    bad(source, f + ".top_logprobs" + fi, "key '" + it.key() +
                                                              "' is not \"token_id:<id>\" (top-k ids need return_tokens_as_token_ids)");
                cands.emplace_back(idOfKey(it.key()), number(it.value(), source, f + ".top_logprobs" + fi + "." + it.key()));
            }
            p.topk = bestK(std::move(cands), topk);
        }
        out.push_back(std::move(p));
    }
    return out;
}

/// One SGLang tuple [logprob, id, text]: checks its shape; logprob may be null only when allowNull.
void sglangTuple(const nlohmann::json& t, const std::string& source, const std::string& field, bool allowNull) {
    if (!t.is_array() || t.size() < 2) bad(source, field, "expected [logprob, token_id, text], got " + shown(t));
    if (!t[1].is_number_integer()) bad(source, field + "[1]", "expected a token id, got " + shown(t[1]));
    if (!(allowNull && t[0].is_null())) number(t[0], source, field + "[0]");
}

std::vector<PositionLogprob> decodeSglang(const nlohmann::json& body, const std::vector<int64_t>& ids, int64_t from,
                                          int64_t topk, const std::string& source) {
    const auto& meta = sglangMeta(body, source);
    const std::string f = "meta_info.input_token_logprobs";
    const auto& itl = member(meta, "input_token_logprobs", source, "meta_info");
    if (!itl.is_array() || itl.size() != ids.size())
        bad(source, f, "expected " + std::to_string(ids.size()) + " entries (logprob_start_len 0), got " +
                           (itl.is_array() ? std::to_string(itl.size()) : shown(itl)));
    const nlohmann::json* top = nullptr;
    if (topk > 0) {
        top = &member(meta, "input_top_logprobs", source, "meta_info");
        if (!top->is_array() || top->size() != ids.size())
            bad(source, "meta_info.input_top_logprobs", "expected " + std::to_string(ids.size()) + " entries, got " + shown(*top));
    }
    std::vector<PositionLogprob> out;
    for (int64_t i = 0; i < int64_t(ids.size()); ++i) {
        const std::string fi = f + "[" + std::to_string(i) + "]";
        const auto& t = itl[size_t(i)];
        sglangTuple(t, source, fi, /*allowNull=*/i < from);
        if (t[1].get<int64_t>() != ids[size_t(i)])
            bad(source, fi, "is token " + std::to_string(t[1].get<int64_t>()) + ", the prompt has " + std::to_string(ids[size_t(i)]));
        if (i < from) continue;
        PositionLogprob p;
        p.logprob = t[0].get<double>();
        if (top) {
            const auto& e = (*top)[size_t(i)];
            const std::string ft = "meta_info.input_top_logprobs[" + std::to_string(i) + "]";
            if (!e.is_array()) bad(source, ft, "expected an array, got " + shown(e));
            std::vector<std::pair<int64_t, double>> cands;
            for (size_t j = 0; j < e.size(); ++j) {
                sglangTuple(e[j], source, ft + "[" + std::to_string(j) + "]", false);
                cands.emplace_back(e[j][1].get<int64_t>(), e[j][0].get<double>());
            }
            p.topk = bestK(std::move(cands), topk);
        }
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

const char* teacherApiName(TeacherApi api) {
    switch (api) {
        case TeacherApi::Vllm: return "vllm";
        case TeacherApi::OpenAiEcho: return "openai-echo";
        case TeacherApi::Sglang: return "sglang";
        default: return "invalid";
    }
}

TeacherApi parseTeacherApi(const std::string& name) {
    for (auto a : {TeacherApi::Vllm, TeacherApi::OpenAiEcho, TeacherApi::Sglang})
        if (name == teacherApiName(a)) return a;
    return TeacherApi::Invalid;
}

TeacherUrl parseTeacherUrl(const std::string& url) {
    const auto scheme = url.find("://");
    XOPD_CHECK(scheme != std::string::npos && (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0),
               "teacher URL '" << url << "': expected http://HOST[:PORT][/PATH] or https://...");
    const auto slash = url.find('/', scheme + 3);
    TeacherUrl u;
    u.origin = url.substr(0, slash);
    u.prefix = slash == std::string::npos ? "" : url.substr(slash);
    XOPD_CHECK(u.origin.size() > scheme + 3, "teacher URL '" << url << "': no host");
    XOPD_CHECK(u.origin.find_first_of(" \t\r\n@?#") == std::string::npos,
               "teacher URL '" << url << "': the host part holds a character a URL host cannot have (credentials belong in --teacher-api-key-env)");
    while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
    if (u.prefix.size() >= 3 && u.prefix.compare(u.prefix.size() - 3, 3, "/v1") == 0) u.prefix.resize(u.prefix.size() - 3);
    return u;
}

std::string scoreRequestPath(TeacherApi api) { return api == TeacherApi::Sglang ? "/generate" : "/v1/completions"; }
std::string modelCardPath(TeacherApi) { return "/v1/models"; }

nlohmann::json encodeScoreRequest(TeacherApi api, const std::vector<int64_t>& ids, int64_t topk, const std::string& model) {
    nlohmann::json j;
    switch (api) {
        case TeacherApi::Vllm:
            if (!model.empty()) j["model"] = model;
            j["prompt"] = ids;
            j["max_tokens"] = 1;  // vLLM refuses 0; the one greedy token is ignored
            j["temperature"] = 0;
            j["prompt_logprobs"] = topk;
            break;
        case TeacherApi::OpenAiEcho:
            if (!model.empty()) j["model"] = model;
            j["prompt"] = ids;
            j["max_tokens"] = 1;
            j["temperature"] = 0;
            j["echo"] = true;
            j["logprobs"] = std::max<int64_t>(topk, 1);
            j["return_tokens_as_token_ids"] = true;
            break;
        case TeacherApi::Sglang:
            j["input_ids"] = ids;
            j["sampling_params"] = {{"max_new_tokens", 1}, {"temperature", 0}};
            j["return_logprob"] = true;
            j["logprob_start_len"] = 0;
            j["top_logprobs_num"] = topk;
            j["return_text_in_logprobs"] = true;
            break;
        default: XOPD_FAIL("encodeScoreRequest: invalid teacher API");
    }
    return j;
}

std::vector<PositionLogprob> decodeScoreResponse(TeacherApi api, const nlohmann::json& body, const std::vector<int64_t>& ids,
                                                 int64_t from, int64_t topk, const std::string& source) {
    checkFrom(ids, from, source);
    switch (api) {
        case TeacherApi::Vllm: return decodeVllm(body, ids, from, topk, source);
        case TeacherApi::OpenAiEcho: return decodeEcho(body, ids, from, topk, source);
        case TeacherApi::Sglang: return decodeSglang(body, ids, from, topk, source);
        default: XOPD_FAIL("decodeScoreResponse: invalid teacher API");
    }
}

std::vector<std::string> decodeTokenTexts(TeacherApi api, const nlohmann::json& body, const std::vector<int64_t>& ids,
                                          const std::string& source) {
    std::vector<std::string> out(ids.size());
    if (api == TeacherApi::Vllm) {
        const auto& pl = member(firstChoice(body, source), "prompt_logprobs", source, "choices[0]");
        if (!pl.is_array() || pl.size() != ids.size()) bad(source, "choices[0].prompt_logprobs", "wrong length");
        for (size_t i = 1; i < ids.size(); ++i) {
            const auto key = std::to_string(ids[i]);
            if (pl[i].is_object() && pl[i].contains(key) && pl[i][key].is_object() && pl[i][key].contains("decoded_token") &&
                pl[i][key]["decoded_token"].is_string())
                out[i] = pl[i][key]["decoded_token"].get<std::string>();
        }
    } else if (api == TeacherApi::OpenAiEcho) {
        const auto& lp = member(firstChoice(body, source), "logprobs", source, "choices[0]");
        if (lp.contains("tokens") && lp["tokens"].is_array())
            for (size_t i = 0; i < ids.size() && i < lp["tokens"].size(); ++i)
                if (lp["tokens"][i].is_string() && lp["tokens"][i].get<std::string>().rfind(kTokenIdPrefix, 0) != 0)
                    out[i] = lp["tokens"][i].get<std::string>();
    } else if (api == TeacherApi::Sglang) {
        const auto& itl = member(sglangMeta(body, source), "input_token_logprobs", source, "meta_info");
        if (itl.is_array())
            for (size_t i = 0; i < ids.size() && i < itl.size(); ++i)
                if (itl[i].is_array() && itl[i].size() >= 3 && itl[i][2].is_string()) out[i] = itl[i][2].get<std::string>();
    }
    return out;
}

ServedModelCard decodeModelCard(TeacherApi, const nlohmann::json& body, const std::string& want, const std::string& source) {
    const auto& data = member(body, "data", source, "");
    if (!data.is_array() || data.empty()) bad(source, "data", "expected a non-empty list of served models, got " + shown(data));
    const nlohmann::json* pick = nullptr;
    std::string names;
    for (const auto& m : data) {
        if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) bad(source, "data[].id", "missing in " + shown(m));
        names += (names.empty() ? "" : ", ") + m["id"].get<std::string>();
        if (!pick && (want.empty() || m["id"].get<std::string>() == want)) pick = &m;
    }
    XOPD_CHECK(pick, "teacher at '" << source << "': serves no model named '" << want << "' (it serves: " << names << ")");
    ServedModelCard c;
    c.id = (*pick)["id"].get<std::string>();
    if (pick->contains("max_model_len") && (*pick)["max_model_len"].is_number_integer())
        c.max_model_len = (*pick)["max_model_len"].get<int64_t>();
    if (pick->contains("xopd") && (*pick)["xopd"].is_object()) {
        const auto& x = (*pick)["xopd"];
        if (x.contains("vocab_size") && x["vocab_size"].is_number_integer()) c.vocab_size = x["vocab_size"].get<int64_t>();
        if (x.contains("tokenizer_sha256") && x["tokenizer_sha256"].is_string()) c.tokenizer_sha256 = x["tokenizer_sha256"].get<std::string>();
    }
    return c;
}

std::string sha256Hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    XOPD_CHECK(EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) == 1, "sha256 failed");
    std::ostringstream os;
    for (unsigned int i = 0; i < len; ++i) os << std::hex << std::setw(2) << std::setfill('0') << int(digest[i]);
    return os.str();
}

std::string tokenizerSha256(const std::string& folder) {
    const auto path = std::filesystem::path(folder) / "tokenizer.json";
    if (!std::filesystem::exists(path)) return "";
    std::ifstream in(path, std::ios::binary);
    XOPD_CHECK(in, "'" << path.string() << "': cannot be read");
    std::ostringstream os;
    os << in.rdbuf();
    return sha256Hex(os.str());
}

std::string errorMessageOf(const std::string& body) {
    std::string msg = body;
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
        if (j.contains("error") && j["error"].is_object() && j["error"].contains("message") && j["error"]["message"].is_string())
            msg = j["error"]["message"].get<std::string>();
        else if (j.contains("error") && j["error"].is_string())
            msg = j["error"].get<std::string>();
        else if (j.contains("message") && j["message"].is_string())
            msg = j["message"].get<std::string>();
        else if (j.contains("detail"))
            msg = j["detail"].is_string() ? j["detail"].get<std::string>() : j["detail"].dump();
    }
    if (msg.size() > 300) msg = msg.substr(0, 297) + "...";
    return msg;
}

}  // namespace xopd::serve

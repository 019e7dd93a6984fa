#pragma once
// The wire format of a teacher served over HTTP, client side: how the trainer asks a server for the
// log-probs of given token ids (teacher prompt + student response) and reads the answer, for three
// request shapes (README "A teacher over HTTP" lists the exact bodies):
//
//   vllm         POST /v1/completions {"prompt": [ids], "max_tokens": 1, "temperature": 0,
//                "prompt_logprobs": k}  ->  choices[0].prompt_logprobs: one entry per prompt
//                position, null at 0, else {"<id>": {"logprob", "rank", "decoded_token"}} holding
//                the position's own token and the k most likely ones (vLLM; also `xopd serve`).
//   openai-echo  POST /v1/completions {"prompt": [ids], "max_tokens": 1, "echo": true,
//                "logprobs": k, "return_tokens_as_token_ids": true}  ->  choices[0].logprobs with
//                token_logprobs / top_logprobs per position (OpenAI's legacy form; vLLM, SGLang,
//                `xopd serve`). Top-k ids need "token_id:<id>" keys.
//   sglang       POST /generate {"input_ids": [ids], "sampling_params": {"max_new_tokens": 1,
//                "temperature": 0}, "return_logprob": true, "logprob_start_len": 0,
//                "top_logprobs_num": k, "return_text_in_logprobs": true}  ->
//                meta_info.input_token_logprobs: [[logprob|null, id, text], ...] and
//                meta_info.input_top_logprobs: [null | [[logprob, id, text], ...], ...].
//
// Every decoder checks what it relies on (lengths, ids at each position, numbers where numbers
// belong) and throws xopd::Error naming `source` (the URL) and the field at fault: a server that
// answers a different prompt or tokenizer must never be read as a score.
//
// Torch-free; pure functions (fuzzable). Threading: any.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace xopd::serve {

/// Request shape a served teacher speaks. Zero is invalid.
enum class TeacherApi {
    Invalid = 0,
    Vllm,        ///< "vllm": /v1/completions with prompt_logprobs (vLLM's extension; xopd serve)
    OpenAiEcho,  ///< "openai-echo": /v1/completions with echo + logprobs (legacy OpenAI form)
    Sglang,      ///< "sglang": SGLang's native /generate with return_logprob
};

/// "vllm", "openai-echo", "sglang".
const char* teacherApiName(TeacherApi api);
/// The API a name stands for; Invalid for any other text.
TeacherApi parseTeacherApi(const std::string& name);

/// A base URL split for an HTTP client: "http://host:8000/prefix" -> {"http://host:8000", "/prefix"}.
/// A trailing "/v1" or "/" is dropped (users paste OpenAI base URLs). Throws on anything but an
/// http:// or https:// URL with a host.
struct TeacherUrl {
    std::string origin;  ///< scheme://host[:port]
    std::string prefix;  ///< path before the API's own path ("" or "/something")
};
TeacherUrl parseTeacherUrl(const std::string& url);

/// Log-prob of one position's token and the position's top-k alternatives (best first).
struct PositionLogprob {
    double logprob = 0.0;
    std::vector<std::pair<int64_t, double>> topk;
};

/// Path of the scoring request ("/v1/completions" or "/generate").
std::string scoreRequestPath(TeacherApi api);

/// The body asking for the log-probs of every position of `ids` (and `topk` alternatives; 0 =
/// none). `model` is the served model name ("" = omitted; SGLang takes none).
nlohmann::json encodeScoreRequest(TeacherApi api, const std::vector<int64_t>& ids, int64_t topk, const std::string& model);

/// Reads the answer to encodeScoreRequest(api, ids, topk, ...): the log-probs of positions
/// [from, ids.size()) (from >= 1: position 0 has no log-prob) with at most `topk` alternatives
/// each. Throws xopd::Error naming `source` when the body is not that answer.
std::vector<PositionLogprob> decodeScoreResponse(TeacherApi api, const nlohmann::json& body, const std::vector<int64_t>& ids,
                                                 int64_t from, int64_t topk, const std::string& source);

/// The text the server shows for each position's token (vLLM decoded_token, SGLang's text,
/// OpenAI's tokens when not given as ids), "" where it gives none; ids.size() entries. Used by the
/// tokenizer probe.
std::vector<std::string> decodeTokenTexts(TeacherApi api, const nlohmann::json& body, const std::vector<int64_t>& ids,
                                          const std::string& source);

/// What a server says about the model it serves.
struct ServedModelCard {
    std::string id;              ///< model name to send in requests ("" for SGLang's native API)
    int64_t max_model_len = 0;   ///< longest prompt + response (0 = not said)
    int64_t vocab_size = 0;      ///< rows of the output layer (xopd serve only; 0 = not said)
    std::string tokenizer_sha256;  ///< sha256 of the served tokenizer.json (xopd serve only; "" = not said)
};

/// Path of the model card request ("/v1/models", or "/get_model_info" for SGLang).
std::string modelCardPath(TeacherApi api);

/// Reads /v1/models (the entry named `want`, else the first; the error lists the served names when
/// `want` is not among them) or SGLang's /get_model_info. Throws naming `source`.
ServedModelCard decodeModelCard(TeacherApi api, const nlohmann::json& body, const std::string& want, const std::string& source);

/// Lower-case hex sha256 of `bytes` (tokenizer fingerprints).
std::string sha256Hex(const std::string& bytes);

/// sha256 of `folder`/tokenizer.json ("" when the folder has none: vocab.json + merges.txt).
std::string tokenizerSha256(const std::string& folder);

/// The message of an error body ({"error": {"message": ...}}, {"message": ...}, {"detail": ...} or
/// the text itself, cut to 300 characters), for errors that quote the server.
std::string errorMessageOf(const std::string& body);

}  // namespace xopd::serve

// libFuzzer entry point for config.json parsing (core/model/checkpoint/ModelConfig.h,
// parseModelConfig). Input that is not JSON is skipped (reading the file is core/common/Json.cpp's
// job); a JSON document must either be refused with xopd::Error or parse into a config whose sizes
// are positive and consistent (what the parser promises). Anything else (another exception, a
// broken invariant, a crash, an ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/model/checkpoint/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {
/// A broken promise of the code under test: say which, then abort (libFuzzer keeps the input).
void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, line);
    std::abort();
}
#define CHECK(cond) check((cond), __LINE__)
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(data, data + size);
    } catch (const nlohmann::json::exception&) {
        return 0;
    }
    try {
        const xopd::ModelConfig c = xopd::parseModelConfig(j, "config.json");
        CHECK(c.architecture != xopd::ModelArchitecture::Unknown && c.source == "config.json");
        const auto& t = c.text;
        CHECK(t.vocab_size > 0 && t.hidden_size > 0 && t.intermediate_size > 0 && t.num_hidden_layers > 0);
        CHECK(t.num_attention_heads > 0 && t.num_key_value_heads > 0 && t.head_dim > 0);
        CHECK(t.num_attention_heads % t.num_key_value_heads == 0);
        CHECK(t.max_position_embeddings > 0 && t.rms_norm_eps > 0 && t.rope_theta > 0);
        CHECK(c.hasAudio() == (c.architecture != xopd::ModelArchitecture::Qwen2));
        if (c.audio) {
            CHECK(c.audio->d_model > 0 && c.audio->encoder_attention_heads > 0);
            CHECK(c.audio->d_model % c.audio->encoder_attention_heads == 0);
            CHECK(c.audio->n_window >= 0 && c.audio->output_dim >= 0);
        }
        CHECK(c.position_id_per_seconds > 0 && c.seconds_per_chunk > 0);
        CHECK(xopd::architectureName(c.architecture) != nullptr);
    } catch (const xopd::Error&) {
        // Refused with a message naming the file and key: the expected outcome for a bad config.
    }
    return 0;
}

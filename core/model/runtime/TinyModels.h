#pragma once
// Tiny random models of each supported architecture (spec model-formats.md §13), written in the
// real Hugging Face folder format (config.json + model.safetensors) so every loader path is
// exercised without downloads. Used by the tests and the benchmarks.
//
//   ModelRuntimeConfig c = tinyConfig(ModelKind::Qwen2Audio);
//   TensorMap w = randomWeights(c, {.seed = 1});
//   writeModelFolder("/tmp/tiny-audio", c, w);          // then loadModel("/tmp/tiny-audio")
//
// Threading: pure functions; the writer replaces the folder atomically (temporary folder + rename).

#include "core/common/Tensors.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/TensorMap.h"

#include <string>

namespace xopd::model {

/// The §13 tester shapes with real-model behaviour (silu, no sliding window):
///   Qwen2Text:         vocab 99, hidden 32, 5 layers, 4 heads / 2 kv, intermediate 37, eps 1e-6, theta 1e6
///   Qwen2Audio:        text 32 / 36 / 2 layers / 4-2 heads / vocab 99; audio d_model 16, 4 heads, ffn 16,
///                      2 layers, 80 mel, max_source_positions 30 (60 mel frames); <|AUDIO|> = 0
///   Qwen25OmniThinker: text 32 / 37 / 4 layers / 4-2 heads / vocab 99; audio d_model 32, 4 heads, ffn 32,
///                      2 layers, 20 mel, n_window 100, output_dim 32; ids audio 1, image 2, video 3,
///                      audio_start 4, audio_end 5; tensor prefix "thinker."
///   Qwen3MoeText:      Qwen3 text 32 / 4 layers / head_dim 16; 8 experts of 12, top 2, layer 1 dense
///   Qwen3OmniThinker:  Qwen3-MoE text (3 layers, 4 experts, top 2) + AuT: d_model 32, 4 heads, ffn 32,
///                      2 layers, 20 mel, conv channels 8, n_window 50, n_window_infer 200; ids as Omni
/// EOS is id 2 for the text and Qwen2-Audio models (bos 1), and 6 for Omni.
ModelRuntimeConfig tinyConfig(ModelKind kind);

/// Options of randomWeights().
struct RandomWeightOptions {
    uint64_t seed = 0;                        ///< generator seed: same seed, same weights
    double std = 0.2;                         ///< std of weights (biases: std / 2)
    torch::ScalarType dtype = torch::kFloat32;  ///< stored dtype
};

/// Random weights named as in the checkpoint of the config's kind (norm weights 1 + noise; no
/// lm_head.weight when tie_word_embeddings).
TensorMap randomWeights(const ModelRuntimeConfig& config, const RandomWeightOptions& options = {});

/// Writes config.json (toConfigJson) and model.safetensors into `folder`, replacing it atomically.
/// With `max_shard_bytes` > 0 the weights are split as save_pretrained does: shards
/// model-0000K-of-0000N.safetensors and model.safetensors.index.json.
void writeModelFolder(const std::string& folder, const ModelRuntimeConfig& config, const TensorMap& weights,
                      uint64_t max_shard_bytes = 0);

/// Ids of the tiny byte-level tokenizer written by writeTinyTokenizer(): 256 byte symbols (0-255,
/// bytes_to_unicode order), 4 merged tokens ("Ġt" 256, "he" 257, "Ġthe" 258, "in" 259), then the
/// added tokens below; 266 tokens in all, 272 embedding rows (6 padded).
struct TinyVocab {
    static constexpr int64_t kEndOfText = 260;  ///< <|endoftext|>
    static constexpr int64_t kImStart = 261;    ///< <|im_start|>
    static constexpr int64_t kImEnd = 262;      ///< <|im_end|>
    static constexpr int64_t kAudio = 263;      ///< <|AUDIO|>
    static constexpr int64_t kAudioBos = 264;   ///< <|audio_bos|>
    static constexpr int64_t kAudioEos = 265;   ///< <|audio_eos|>
    static constexpr int64_t kSize = 266;       ///< tokenizer size
    static constexpr int64_t kRows = 272;       ///< embedding rows
};

/// tinyConfig(kind) resized to the tiny tokenizer: vocab_size 272, EOS {<|im_end|>, <|endoftext|>},
/// audio ids from TinyVocab. Qwen2-Audio keeps 80 mel bins; Omni gets 80 (the Whisper front end
/// computes 80 or 128), so `xopd generate --audio` works on both.
ModelRuntimeConfig tinyChatConfig(ModelKind kind);

/// Writes tokenizer.json and tokenizer_config.json of the tiny tokenizer into an existing folder.
/// With `qwen3_omni_audio_names` the three audio tokens are spelled as Qwen3-Omni's
/// (<|audio_pad|>, <|audio_start|>, <|audio_end|>; same ids).
void writeTinyTokenizer(const std::string& folder, bool qwen3_omni_audio_names = false);

/// A tiny model with a working tokenizer: tinyChatConfig + random weights + tokenizer files.
std::string buildTinyChatModel(const std::string& folder, ModelKind kind, const RandomWeightOptions& options = {},
                               uint64_t max_shard_bytes = 0);

/// tinyConfig + randomWeights + writeModelFolder. Returns the folder.
std::string buildTinyModel(const std::string& folder, ModelKind kind, const RandomWeightOptions& options = {});

}  // namespace xopd::model

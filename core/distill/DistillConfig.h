#pragma once
// Configuration of one distillation run: which method (X-OPD or a baseline), how rollouts are
// sampled, how the loss is shaped, and how the optimizer steps. Defaults reproduce the X-OPD paper
// where it reports a value and follow spec/method.md §7 / §13 where it does not.
//
//   DistillConfig c = defaultDistillConfig(Method::XOpd);      // λ = 0.5, m = 4, lr 2e-6, ...
//   DistillConfig c = distillConfigFromJson(json, "run.json");   // defaults of json's method + overlay
//   c.validate("run.json");                                       // throws naming file and field
//   nlohmann::json j = toJson(c);                                 // full, resolved round-trip
//
// Torch-free: the GUI's run editor may include this header. Plain values; copy freely.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::distill {

/// Training objective. Zero is invalid.
enum class Method {
    Invalid = 0,
    XOpd,       ///< "x-opd": on-policy, teacher log-ratio advantage, policy gradient (default)
    Sft,        ///< "sft": cross-entropy on reference answers
    OfflineKd,  ///< "offline-kd": cross-entropy on the teacher's own generated answers
    Gkd,        ///< "gkd": generalised KD, full-vocabulary (or top-k) divergence, on/off-policy mix
};

/// Divergence used by GKD (X-OPD always uses the sampled-token log-ratio). Zero is invalid.
enum class Divergence {
    Invalid = 0,
    SampledK1,  ///< "sampled_k1": log p_teacher − log p_student of the sampled token (X-OPD)
    ForwardKl,  ///< "forward_kl": KL(teacher ‖ student), mass-covering
    ReverseKl,  ///< "reverse_kl": KL(student ‖ teacher), mode-seeking
    Jsd,        ///< "jsd": generalised JSD(β); β → 0 behaves like forward KL, β → 1 like reverse KL
};

/// Bounded transform applied to the per-token advantage (PowerOPD-style guard). Zero is invalid.
enum class RewardTransform {
    Invalid = 0,
    LogRatio,  ///< "log_ratio": A unchanged (paper)
    Tanh,      ///< "tanh": c · tanh(A / c), c = reward_bound
    Clip,      ///< "clip": clamp(A, −c, c), c = reward_bound
};

/// Where the in-modal (text) stream's rollouts come from (method.md §7 D1). Zero is invalid.
enum class ImStream {
    Invalid = 0,
    Separate,             ///< "separate": m extra rollouts per prompt under the text prompt (paper reading)
    ReuseSpeechRollouts,  ///< "reuse_speech_rollouts": speech rollouts re-scored under the text prompt (ablation)
};

/// Loss aggregation (method.md §7 D3). Zero is invalid.
enum class LossAgg {
    Invalid = 0,
    SeqMeanTokenMean,  ///< "seq_mean_token_mean": per-sequence token mean, then mean over sequences (paper)
    TokenMean,         ///< "token_mean": mean over all unmasked tokens of the stream (verl default)
};

/// Learning-rate schedule. Zero is invalid.
enum class LrSchedule {
    Invalid = 0,
    Constant,  ///< "constant": lr after warm-up (method.md D9 default)
    Cosine,    ///< "cosine": linear warm-up, cosine decay to min_lr_ratio · lr at max_steps
};

/// What the optimizer trains. Zero is invalid.
enum class Trainable {
    Invalid = 0,
    Backbone,  ///< "backbone": the decoder LLM, full fine-tuning (paper); audio tower + projector frozen
    Lora,      ///< "lora": low-rank adapters on the decoder's linear layers; everything else frozen
};

/// What train.batch_size counts. Zero is invalid.
enum class BatchUnit {
    Invalid = 0,
    Prompts,    ///< "prompts": each expanded to m rollouts per stream
    Sequences,  ///< "sequences": rollouts per stream
};

/// Weight precision of the run. Zero is invalid.
enum class TrainDtype {
    Invalid = 0,
    Auto,      ///< "auto": float32 on the CPU, bfloat16 on CUDA
    Float32,   ///< "float32"
    BFloat16,  ///< "bfloat16"
};

/// What kind of model a source names. Zero is invalid.
enum class ModelSourceKind {
    Invalid = 0,
    Toy,   ///< "toy": the built-in tiny model, for tests and benchmarks
    Demo,  ///< "demo": the demo kit
    Hf,    ///< "hf": a Hugging Face folder at `path`
};

/// Where one model comes from.
struct ModelSource {
    ModelSourceKind kind = ModelSourceKind::Toy;
    /// Folder of the model (kind "hf"), or the demo-kit folder (kind "demo"; "" = default location).
    std::string path;
};

/// A teacher served over HTTP (README "A teacher over HTTP"): used instead of loading the teacher
/// when `url` is set. The teacher's `path` (or the demo kit's teacher) still names a local folder
/// with its tokenizer files and config.json (the weights are not read). The key itself is never
/// stored: only the name of the environment variable that holds it.
struct ServedTeacherConfig {
    /// Base URL ("" = the teacher runs in this process): http(s)://HOST:PORT.
    std::string url;
    /// Request shape: "vllm" (prompt_logprobs), "openai-echo" (echo + logprobs), "sglang" (/generate).
    std::string api = "vllm";
    /// Environment variable holding the Bearer key ("" = no key).
    std::string api_key_env;
    /// Served model name to ask for ("" = the first the server lists).
    std::string served_model;
    /// Seconds to wait for a connection and for each answer.
    double timeout_s = 60.0;
    /// Retries of a failed request (backoff 0.5 s, doubled, at most 8 s) before the run pauses.
    int64_t retries = 4;
    /// Requests in flight at once (the server batches them).
    int64_t concurrency = 8;
};

/// Prompt set.
struct DataConfig {
    /// JSONL manifest of prompt pairs; "" with toy models = the built-in toy prompts.
    std::string manifest;
    /// Split of the manifest to train on.
    std::string split = "train";
    /// Number of built-in toy prompts (toy models only).
    int64_t toy_prompts = 64;
};

/// How the student samples its responses (method.md §7 D6, D7).
struct RolloutConfig {
    /// m: responses per prompt and stream (paper: 4).
    int64_t rollouts_per_prompt = 4;
    /// Sampling temperature (hot-editable).
    double temperature = 1.0;
    /// Nucleus sampling mass; 1.0 = off.
    double top_p = 1.0;
    /// Top-k sampling; 0 = off.
    int64_t top_k = 0;
    /// Longest response in tokens; longer ones are truncated (metric: truncation rate).
    int64_t max_new_tokens = 1024;
};

/// The objective and its shaping knobs (method.md §3, §10, §12, §13.2, §13.3).
struct DistillLossConfig {
    /// Training objective.
    Method method = Method::XOpd;
    /// λ: weight of the in-modal (text) stream; 1 − λ weighs the cross-modal (speech) stream. A
    /// stream whose weight is 0 is not sampled. Hot-editable. Baselines default to 0 (speech only).
    double lambda = 0.5;
    /// Source of the text stream's rollouts.
    ImStream im_stream = ImStream::Separate;
    /// Loss aggregation over tokens and sequences.
    LossAgg loss_agg = LossAgg::SeqMeanTokenMean;
    /// PPO clip ε on the importance ratio; 0 = off (paper: one update per batch, ratio ≡ 1).
    double clip_eps = 0.0;
    /// Divergence: sampled_k1 for X-OPD; forward_kl (paper's GKD baseline), reverse_kl or jsd for GKD.
    Divergence divergence = Divergence::SampledK1;
    /// β of JSD(β): 0 = forward KL end, 1 = reverse KL end (labelled in words in every UI).
    double jsd_beta = 0.5;
    /// GKD: probability that a step trains on student samples (on-policy); else on dataset answers.
    double gkd_lambda = 0.5;
    /// GKD: compare distributions on the teacher's top-k ids only; 0 = full (masked) vocabulary.
    int64_t topk = 0;
    /// GKD with seq_kd: the off-policy answers are the teacher's own generations (not references).
    bool seq_kd = false;
    /// Temperature applied to the logits inside the loss (independent of sampling temperature).
    double loss_temperature = 1.0;
    /// Bounded transform of the advantage.
    RewardTransform reward_transform = RewardTransform::LogRatio;
    /// c of the tanh / clip transform (> 0).
    double reward_bound = 5.0;
    /// Clamp |A| to this value after the transform; 0 = off.
    double advantage_clip = 0.0;
    /// Multiplies the advantage (> 1 = ExOPD extrapolation).
    double reward_scale = 1.0;
    /// CORD: the K positions with the largest |A| per sequence get weight alpha; 0 = off (CORD: 20).
    int64_t cord_topk = 0;
    /// CORD: weight of the top-K positions (CORD: 2.0).
    double cord_alpha = 1.0;
    /// CORD: positional weight decays linearly from beta at the first token to 1 at the last (CORD: 2.0).
    double pos_decay_beta = 1.0;
    /// Exclude modality-specific special ids and ids outside the shared range from the loss and |y|.
    bool mask_special_tokens = true;
    /// Further token ids to exclude from the loss.
    std::vector<int64_t> extra_mask_ids;
};

/// Optimizer, schedule, precision, checkpoints (method.md §7 D9, D10, D16).
struct TrainConfig {
    /// Prompts per optimizer step (paper: 256; unit per batch_unit).
    int64_t batch_size = 256;
    /// What batch_size counts.
    BatchUnit batch_unit = BatchUnit::Prompts;
    /// Gradient accumulation: the batch is split into this many micro-batches; the loss is
    /// normalised by the global sequence count, so the split does not change it.
    int64_t micro_batches = 1;
    /// Learning rate (paper: 2e-6). Hot-editable.
    double lr = 2e-6;
    /// AdamW decoupled weight decay (D9: 0 = plain Adam).
    double weight_decay = 0.0;
    /// Adam β1.
    double beta1 = 0.9;
    /// Adam β2.
    double beta2 = 0.999;
    /// Adam ε.
    double adam_eps = 1e-8;
    /// Learning-rate schedule.
    LrSchedule lr_schedule = LrSchedule::Constant;
    /// Linear warm-up steps from 0 to lr.
    int64_t warmup_steps = 0;
    /// Cosine floor as a fraction of lr.
    double min_lr_ratio = 0.0;
    /// Gradient-norm clip (global L2); 0 = off.
    double grad_clip = 1.0;
    /// Optimizer steps; 0 = `epochs` passes over the prompt set.
    int64_t max_steps = 0;
    /// Passes over the prompt set when max_steps is 0 (D8: 1).
    int64_t epochs = 1;
    /// Seed of data order, sampling and initialisation.
    uint64_t seed = 0;
    /// Weight precision.
    TrainDtype dtype = TrainDtype::Auto;
    /// Student device: "cpu", "cuda", "cuda:N".
    std::string device = "cpu";
    /// Teacher device ("" = same as the student).
    std::string teacher_device;
    /// What is trained.
    Trainable trainable = Trainable::Backbone;
    /// LoRA rank (trainable == lora).
    int64_t lora_rank = 16;
    /// LoRA alpha (scale = alpha / rank).
    double lora_alpha = 32.0;
    /// LoRA target module names (suffixes of the decoder's linear layers).
    std::vector<std::string> lora_targets{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    /// Also train the audio projector (frozen by default, as in the paper).
    bool train_projector = false;
    /// Also train the audio tower (frozen by default, as in the paper).
    bool train_audio_tower = false;
    /// Also train MoE routers (mlp.gate); frozen by default so that the routing cannot drift.
    bool train_router = false;
    /// Checkpoint every N steps (and always at the end / on stop); 0 = only at the end.
    int64_t checkpoint_every = 50;
    /// Keep this many newest checkpoints; 0 = keep all.
    int64_t keep_checkpoints = 3;
    /// Per step, store this many rollouts' per-token records (tokens table, GUI); 0 = none.
    int64_t log_token_samples = 8;
    /// Store the teacher's and student's top-k alternatives per logged token (0 = off).
    int64_t log_topk = 5;
    /// Measure the student's modality gap (M2): re-score speech rollouts under the text prompt.
    bool modality_gap = true;
    /// Pause (true) or fail (false) on NaN/Inf in the loss or gradients.
    bool pause_on_nan = true;
    /// Data parallel only (README "Scaling out"): prompts sampled in one draw. A step's batch is cut
    /// into groups of this many consecutive prompts, each sampled from a generator keyed by (seed,
    /// step, group) and each rank trains whole groups, so any world size samples the same rollouts;
    /// at most ceil(prompts per step / dp_sample_group) ranks. 1 = prompt by prompt; larger groups
    /// batch the decoding (what a GPU needs). The single process ignores it.
    int64_t dp_sample_group = 1;
};

/// Everything a run needs. run.json stores it resolved (every field written).
struct DistillConfig {
    /// Student speech LLM.
    ModelSource student;
    /// Teacher text LLM (frozen).
    ModelSource teacher;
    /// The teacher served over HTTP instead (stored in run.json's "teacher" section).
    ServedTeacherConfig served_teacher;
    /// Prompt set.
    DataConfig data;
    /// Sampling.
    RolloutConfig rollout;
    /// Objective.
    DistillLossConfig loss;
    /// Optimizer and run.
    TrainConfig train;

    /// Throws xopd::Error "'<source>': field '<section.field>': <what>" on the first invalid field.
    void validate(const std::string& source) const;
};

/// Defaults of a method: X-OPD as in the paper; baselines train the speech stream only (λ = 0),
/// GKD with forward KL (the paper's baseline) and gkd_lambda 0.5 (D15).
DistillConfig defaultDistillConfig(Method method);

/// The built-in toy models' config of `method` (seconds-long smoke runs, tests, benchmarks):
/// 32 toy prompts, m = 2, 24 response tokens, 4 prompts per step, lr 1e-2, 40 steps.
DistillConfig toyDistillConfig(Method method = Method::XOpd);

/// The demo kit's config of `method`, sized for a CPU laptop (a run of a few minutes on 2 cores):
/// the kit's student and teacher and its training prompts, m = 4, short answers (8 tokens), 16
/// prompts per step, lr 1e-4, 200 steps (under 5 minutes), a checkpoint every 50.
DistillConfig demoDistillConfig(Method method = Method::XOpd);

/// Parses a config: starts from defaultDistillConfig(json["loss"]["method"] or "x-opd") and
/// overlays the given fields. Unknown keys and wrong types throw xopd::Error naming `source` and
/// the field. Does not validate ranges (call validate()).
DistillConfig distillConfigFromJson(const nlohmann::json& json, const std::string& source);

/// Reads, parses and validates a config file.
DistillConfig readDistillConfig(const std::string& path);

/// Every field, resolved.
nlohmann::json toJson(const DistillConfig& config);

/// Names used in JSON and UIs.
const char* methodName(Method m);               ///< "x-opd", "sft", "offline-kd", "gkd"
const char* divergenceName(Divergence d);       ///< "sampled_k1", "forward_kl", ...
/// Human label: "sampled-token reverse KL (k1)", "forward KL", "reverse KL", "JSD(β=0.5), between forward KL (β=0) and reverse KL (β=1)".
std::string divergenceLabel(Divergence d, double jsd_beta);
const char* rewardTransformName(RewardTransform t);
const char* imStreamName(ImStream s);
const char* lossAggName(LossAgg a);
const char* lrScheduleName(LrSchedule s);
const char* trainableName(Trainable t);
const char* modelSourceKindName(ModelSourceKind k);  ///< "toy", "demo", "hf"
const char* batchUnitName(BatchUnit u);              ///< "prompts", "sequences"
const char* trainDtypeName(TrainDtype d);            ///< "auto", "float32", "bfloat16"
/// The kind a name stands for; Invalid for any other text.
ModelSourceKind parseModelSourceKind(const std::string& name);

}  // namespace xopd::distill

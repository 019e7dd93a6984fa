#pragma once
// Token-level divergences between a student and a teacher distribution over the vocabulary, for
// GKD-style direct losses (spec method.md §12.2, §13.2) and for per-token metrics (§14 M1, M5, M6).
//
// Core-internal header (includes LibTorch; the GUI never includes it).
//
// Inputs, for N aligned response tokens and a vocabulary of V ids:
//   student logits [N, V] and teacher logits [N, V] (bf16, fp16 or fp32; each may differ; math is
//   always done in fp32 after upcasting, model-formats.md §11), an optional vocabulary mask [V]
//   (bool, true = EXCLUDE this id: its logit becomes -inf in both models before the log-softmax,
//   model-formats.md §12), and optional sampled token ids [N] (int64).
// Notation below: q = student distribution, p = teacher distribution, both softmax(logits / T)
// over the unmasked ids, T = DivergenceOptions::temperature.
//
// Definitions (per token, natural log, nats):
//   ForwardKl : KL(p || q) = sum_j p_j (log p_j - log q_j)            (teacher || student, mean-seeking)
//   ReverseKl : KL(q || p) = sum_j q_j (log q_j - log p_j)            (student || teacher, mode-seeking)
//   Jsd       : generalised JSD of GKD (Agarwal et al. 2024) and TRL's generalized_jsd_loss:
//               M = beta * p + (1 - beta) * q   (beta weights the TEACHER)
//               JSD(beta) = beta * KL(p || M) + (1 - beta) * KL(q || M)
//               For 0 < beta < 1 this is the raw value (bounded by ln 2 at beta = 0.5). The raw value
//               tends to 0 at both ends; as in TRL, the endpoints are defined as the normalised
//               limits: beta = 0 IS ForwardKl (lim JSD/beta) and beta = 1 IS ReverseKl
//               (lim JSD/(1-beta)). Spec UI labels: 0 = "Forward KL", 1 = "Reverse KL".
//
// Top-k variants (DivergenceOptions::topK > 0): the support is the teacher's k most probable
// unmasked ids per token (or caller-supplied ids, e.g. from a scoring server), S.
//   TopKMode::Renormalized : q and p are both renormalised over S (softmax restricted to S);
//                            the divergence is computed on these k-outcome distributions. Gradient
//                            is zero outside S. (verl "topk_truncated", NeMo-RL top-k KD.)
//   TopKMode::TailBucket   : k + 1 outcomes: the k ids of S with their full-vocabulary
//                            probabilities, plus one "tail" outcome holding the remaining mass
//                            (1 - sum over S) of each model. Exact with respect to the full
//                            distributions on S; every id gets a gradient through the tail.
//   An empty tail (k = number of unmasked ids) contributes 0 (0 log 0 = 0).
//
// Per-token extras, always full-vocabulary (masked) regardless of topK:
//   studentLogProb = log q(sampled id), teacherLogProb = log p(sampled id) (-inf if the sampled id
//   is masked), studentEntropy = -sum_j q_j log q_j.
//
// Gradients: divergence and studentLogProb carry autograd back to the student logits (teacher
// logits are always treated as detached); teacherLogProb and studentEntropy are detached metrics.
// The backward of the CUDA backend writes d/d(student logits) directly in the student logits'
// dtype without a [N, V] fp32 temporary.
//
// Threading: all functions are re-entrant; the backend registry is read-mostly and guarded by a
// mutex. Lifetime: returned tensors own their storage.

#include "core/common/Tensors.h"

#include <cstdint>
#include <functional>
#include <string>

namespace xopd::distill {

/// Which divergence to compute. Zero is invalid (conventions: enums, zero = invalid).
enum class DivergenceKind {
    Invalid = 0,
    ForwardKl,  ///< KL(teacher || student)
    ReverseKl,  ///< KL(student || teacher)
    Jsd,        ///< generalised JSD(beta), M = beta*teacher + (1-beta)*student; beta 0/1 = Forward/ReverseKl
};

/// How a top-k support is turned into distributions. Zero is invalid.
enum class TopKMode {
    Invalid = 0,
    Renormalized,  ///< both distributions renormalised over the teacher's top-k ids
    TailBucket,    ///< top-k ids with full-vocab probabilities plus one tail outcome for the rest
};

/// Options of one divergence computation.
struct DivergenceOptions {
    /// Divergence to compute.
    DivergenceKind kind = DivergenceKind::ReverseKl;
    /// Weight of the TEACHER in the JSD mixture M = beta*p + (1-beta)*q; in [0, 1]; only for Jsd.
    double jsdBeta = 0.5;
    /// 0 = full vocabulary; k > 0 = teacher top-k support (spec knob `topk`, 32 when used).
    int64_t topK = 0;
    /// Treatment of the top-k support; ignored when topK == 0.
    TopKMode topKMode = TopKMode::Renormalized;
    /// Logits are divided by this before every softmax (spec knob `loss_temperature`); > 0.
    double temperature = 1.0;

    static DivergenceOptions forwardKl() { return {DivergenceKind::ForwardKl}; }
    static DivergenceOptions reverseKl() { return {DivergenceKind::ReverseKl}; }
    static DivergenceOptions jsd(double beta) { return {DivergenceKind::Jsd, beta}; }
};

/// Inputs of one computation. Rows of both logits tensors are the same N response tokens.
struct DivergenceInput {
    /// [N, V] bf16/fp16/fp32, any device; gradients flow back to it.
    torch::Tensor studentLogits;
    /// [N, V] bf16/fp16/fp32, same device; treated as detached.
    torch::Tensor teacherLogits;
    /// Optional [V] bool, true = id excluded in both models. Undefined = no mask.
    torch::Tensor vocabMask;
    /// Optional [N] int64 sampled ids in [0, V). Undefined = no log-probs returned.
    torch::Tensor sampledIds;
    /// Optional [N, k] int64 top-k support ids (unique per row, unmasked). Undefined = computed
    /// from the teacher logits (torch::topk). Only read when options.topK > 0.
    torch::Tensor topKIds;
};

/// Per-token results, all [N] fp32 on the input device.
struct DivergenceOutput {
    /// Divergence per token (nats); autograd to studentLogits.
    torch::Tensor divergence;
    /// log q(sampled id); autograd to studentLogits. Undefined when sampledIds is undefined.
    torch::Tensor studentLogProb;
    /// log p(sampled id); detached. Undefined when sampledIds is undefined.
    torch::Tensor teacherLogProb;
    /// Student entropy -sum q log q (nats); detached.
    torch::Tensor studentEntropy;
};

/// Sampled-token log-probabilities of ONE model (the X-OPD path needs no teacher distribution).
struct TokenLogProbOutput {
    /// [N] fp32 log softmax(logits / T)[sampled id]; autograd to logits.
    torch::Tensor logProb;
    /// [N] fp32 entropy of softmax(logits / T) over unmasked ids; detached.
    torch::Tensor entropy;
};

/// Main entry: dispatches on the device of studentLogits to the registered backend (CUDA kernels
/// when kernels/ registered them, else the CPU/ATen reference). Throws xopd::Error on bad shapes,
/// dtypes, options or ids (message names the argument).
DivergenceOutput computeDivergence(const DivergenceInput& input, const DivergenceOptions& options);

/// Sampled-token log-probs and entropy of one model, dispatched like computeDivergence.
/// logits [N, V]; sampledIds [N] int64; vocabMask optional [V] bool (true = excluded).
TokenLogProbOutput tokenLogProbs(const torch::Tensor& logits, const torch::Tensor& sampledIds,
                                 const torch::Tensor& vocabMask = {}, double temperature = 1.0);

/// The reference implementation (plain ATen ops, fp32, autograd), on any device. It materialises
/// [N, V] fp32 temporaries; the CUDA kernels are checked against it.
DivergenceOutput referenceDivergence(const DivergenceInput& input, const DivergenceOptions& options);
TokenLogProbOutput referenceTokenLogProbs(const torch::Tensor& logits, const torch::Tensor& sampledIds,
                                          const torch::Tensor& vocabMask = {}, double temperature = 1.0);

/// Checks shapes, dtypes, devices and options; throws xopd::Error naming the bad argument.
/// Backends call it first (computeDivergence already does).
void validateDivergence(const DivergenceInput& input, const DivergenceOptions& options);

/// The teacher's top-k unmasked ids [N, k] (int64), as used when DivergenceInput::topKIds is
/// undefined.
torch::Tensor teacherTopK(const torch::Tensor& teacherLogits, const torch::Tensor& vocabMask, int64_t k);

/// Human-readable name, e.g. "reverse_kl", "jsd(0.5)", "forward_kl top32 tail".
std::string describe(const DivergenceOptions& options);

/// Parses the spec knob names: "fkl"/"forward_kl", "rkl"/"reverse_kl"/"full_vocab_reverse_kl",
/// "jsd". Throws xopd::Error on anything else.
DivergenceKind parseDivergenceKind(const std::string& name);

}  // namespace xopd::distill

#include "core/distill/RunEstimate.h"

#include "core/common/Error.h"
#include "core/model/checkpoint/ModelBudget.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

namespace xopd::distill {

RunModelShapes modelShapesOf(const DistillConfig& c) {
    RunModelShapes shapes;
    if (c.student.kind == ModelSourceKind::Hf && !c.student.path.empty()) shapes.student = loadModelConfig(c.student.path);
    if (c.teacher.kind == ModelSourceKind::Hf && !c.teacher.path.empty()) shapes.teacher = loadModelConfig(c.teacher.path);
    return shapes;
}

std::string stepTimeCalibrationKey(const DistillConfig& c) {
    return std::string("student ") + modelSourceKindName(c.student.kind) + ":" + c.student.path + " · teacher " +
           modelSourceKindName(c.teacher.kind) + ":" + c.teacher.path + " · device " + c.train.device;
}

namespace {
/// Sampled tokens per step: both streams' rollouts at about half the token budget.
double tokensPerStep(const DistillConfig& c) {
    const double streams = (c.loss.lambda > 0 ? 1 : 0) + (c.loss.lambda < 1 ? 1 : 0);
    const double prompts = c.train.batch_unit == BatchUnit::Prompts ? double(c.train.batch_size) : double(c.train.batch_size) / double(std::max<int64_t>(1, c.rollout.rollouts_per_prompt));
    const double seqs = prompts * double(c.rollout.rollouts_per_prompt) * std::max(1.0, streams);
    return seqs * double(c.rollout.max_new_tokens) * 0.5;
}
}  // namespace

StepTimeCalibration calibrateStepTime(const DistillConfig& run_config, const std::vector<double>& step_seconds,
                                      const std::string& source) {
    std::vector<double> s;
    for (double v : step_seconds)
        if (std::isfinite(v) && v > 0) s.push_back(v);
    StepTimeCalibration cal;
    const double tokens = tokensPerStep(run_config);
    if (s.empty() || !(tokens > 0)) return cal;
    std::sort(s.begin(), s.end());
    const double median = s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
    cal.key = stepTimeCalibrationKey(run_config);
    cal.seconds_per_token = median / tokens;
    cal.steps = int64_t(s.size());
    cal.source = source;
    return cal;
}

RunEstimate estimateRun(const DistillConfig& c, int64_t student_parameters, int64_t teacher_parameters,
                        const RunModelShapes& shapes, const StepTimeCalibration& calibration) {
    RunEstimate e;
    const bool toy = c.student.kind == ModelSourceKind::Toy;
    const double ps = double(student_parameters > 0 ? student_parameters : (toy ? 5e4 : 0));
    // Unknown stays unknown: the student's count is not the teacher's.
    const double pt = double(teacher_parameters > 0 ? teacher_parameters : (toy ? 5e4 : 0));
    const bool cuda = c.train.device.rfind("cuda", 0) == 0;
    const bool bf16 = c.train.dtype == TrainDtype::BFloat16 || (c.train.dtype == TrainDtype::Auto && cuda);
    const double bytes = bf16 ? 2.0 : 4.0;
    const bool lora = c.train.trainable == Trainable::Lora;
    // Trainable share: LoRA adapters are ~1 % of the decoder at rank 16; full fine-tuning trains
    // the decoder (the audio tower and projector are frozen by default, most of the rest).
    const double trainable = lora ? ps * 0.01 * (double(c.train.lora_rank) / 16.0) : ps * 0.9;
    const double streams = (c.loss.lambda > 0 ? 1 : 0) + (c.loss.lambda < 1 ? 1 : 0);
    const double prompts = c.train.batch_unit == BatchUnit::Prompts ? double(c.train.batch_size) : double(c.train.batch_size) / double(std::max<int64_t>(1, c.rollout.rollouts_per_prompt));
    const double seqs = prompts * double(c.rollout.rollouts_per_prompt) * std::max(1.0, streams);
    // Mean response length: about half the budget.
    e.tokens_per_step = tokensPerStep(c);
    const double microSeqs = seqs / double(std::max<int64_t>(1, c.train.micro_batches));
    // Activations of one micro-batch: ~ 34 · hidden · tokens bytes per layer is the usual rule; with
    // no layer info use 2 bytes per parameter per 1k tokens as a coarse proxy.
    const double act = microSeqs * double(c.rollout.max_new_tokens) / 1000.0 * ps * 2.0 / 1000.0;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    e.memory_gib = (ps * bytes + trainable * (4.0 /*grad fp32*/ + 8.0 /*Adam m, v*/) + act) / gib;
    e.teacher_memory_gib = (pt * bytes + act * 0.5) / gib;
    // With the models' shapes: the per-part estimate of ModelBudget.h, as `xopd inspect --memory`.
    MemoryOptions mo;
    mo.batch = std::max<int64_t>(1, int64_t(std::ceil(microSeqs)));
    mo.sequence_length = kEstimatePromptTokens + c.rollout.max_new_tokens;
    mo.weight_bytes = int64_t(bytes);
    mo.lora_rank = c.train.lora_rank;
    mo.lora_targets = c.train.lora_targets;
    mo.train_router = c.train.train_router;
    if (shapes.student) {
        mo.training = lora ? Training::Lora : Training::Full;
        e.memory_gib = double(memoryNeedOf(*shapes.student, mo).total()) / gib;
    }
    if (shapes.teacher) {
        mo.training = Training::Frozen;
        e.teacher_memory_gib = double(memoryNeedOf(*shapes.teacher, mo).total()) / gib;
    }
    // Time: measured by a run of the same models on the same device, scaled by the sampled tokens;
    // else generation ≈ 2·P flops per token, scoring and update ≈ 2·P + 6·P per token.
    const double flops = e.tokens_per_step * (2.0 * ps + 2.0 * pt + 6.0 * ps);
    const double rate = cuda ? 1e14 : 5e10;  // sustained flop/s: a big GPU vs a few CPU cores
    e.step_time_measured = calibration.steps > 0 && calibration.seconds_per_token > 0 && calibration.key == stepTimeCalibrationKey(c);
    if (e.step_time_measured) e.step_seconds = calibration.seconds_per_token * e.tokens_per_step;
    else if (ps > 0 && pt > 0) e.step_seconds = flops / rate;
    else e.step_seconds = std::numeric_limits<double>::quiet_NaN();
    std::ostringstream os;
    os << std::setprecision(3);
    os << "student " << (ps > 0 ? std::to_string(int64_t(ps)) : std::string("?")) << " parameters, teacher "
       << (pt > 0 ? std::to_string(int64_t(pt)) : std::string("?")) << " parameters ("
       << (bf16 ? "bfloat16" : "float32") << ", " << (lora ? "LoRA" : "full fine-tuning") << ")\n";
    os << "per step: " << seqs << " rollouts, about " << e.tokens_per_step << " sampled tokens\n";
    os << "memory: student ≈ " << e.memory_gib << " GiB (weights, gradients, AdamW state, activations), teacher ≈ "
       << e.teacher_memory_gib << " GiB"
       << (shapes.student || shapes.teacher ? " (from the models' configs, as xopd inspect --memory)" : "") << "\n";
    if (!std::isfinite(e.step_seconds)) {
        os << "time: unknown per step on " << c.train.device << " until the models' sizes are known or a run of them has "
           << "measured its first steps\n";
    } else {
        os << "time: ≈ " << e.step_seconds << " s per step on " << c.train.device;
        if (e.step_time_measured) os << " (measured: " << calibration.steps << " step(s) of " << calibration.source << ")";
        else os << " (rough: 10 flops per parameter per token at " << (cuda ? "100 Tflop/s" : "50 Gflop/s") << ")";
        if (c.train.max_steps > 0) os << ", ≈ " << e.step_seconds * double(c.train.max_steps) / 60.0 << " min for " << c.train.max_steps << " steps";
        os << "\n";
    }
    e.text = os.str();
    return e;
}

void checkRunFitsMemory(const DistillConfig& c, const RunEstimate& e, uint64_t available_bytes, const std::string& what) {
    if (available_bytes == 0) return;
    const bool studentCpu = c.train.device == "cpu";
    const bool teacherCpu = (c.train.teacher_device.empty() ? c.train.device : c.train.teacher_device) == "cpu";
    const double need = (studentCpu ? e.memory_gib : 0.0) + (teacherCpu ? e.teacher_memory_gib : 0.0);
    const double have = double(available_bytes) / (1024.0 * 1024.0 * 1024.0);
    XOPD_CHECK(need <= have, what << ": needs about " << std::setprecision(3) << need << " GiB of memory on the CPU ("
                                  << e.tokens_per_step << " sampled tokens per step, rollout.max_new_tokens "
                                  << c.rollout.max_new_tokens << ", train.batch_size " << c.train.batch_size
                                  << "), more than this machine's " << have
                                  << " GiB: lower train.batch_size or rollout.max_new_tokens, or add train.micro_batches");
}

}  // namespace xopd::distill

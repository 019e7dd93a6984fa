#include "core/session/RunSetup.h"

#include "core/common/Error.h"
#include "core/common/TorchErrors.h"
#include "core/model/checkpoint/InspectSummary.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/VocabAlignment.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <iomanip>
#include <memory>
#include <sstream>

namespace xopd::session {

using namespace distill;  // the policies, scorer and config this service drives

ModelFolderInfo inspectModelFolder(const std::string& folder) {
    return withTorchErrors("'" + folder + "'", [&]() -> ModelFolderInfo {
        ModelFolderInfo info;
        info.folder = folder;
        try {
            const nlohmann::json report = inspectCheckpoint(folder);
            info.summary = formatInspectReport(report);
            if (report.contains("config") && report["config"].contains("model_type"))
                info.model_type = report["config"]["model_type"].get<std::string>();
            if (report.contains("weights")) {
                const auto& w = report["weights"];
                if (w.contains("data_bytes")) info.data_bytes = w["data_bytes"].get<int64_t>();
                if (w.contains("parameters")) {
                    info.parameters = w["parameters"].value("total", int64_t(0));
                    info.has_audio = w["parameters"].value("audio_tower", int64_t(0)) > 0;
                }
            }
            info.ok = true;
        } catch (const std::exception& e) {
            info.error = e.what();
        }
        return info;
    });
}

namespace {

struct Side {
    model::VocabSide side;
    std::shared_ptr<text::Tokenizer> tokenizer;
};

Side sideOf(const std::string& name, const std::string& folder) {
    Side s;
    const auto cfg = model::runtimeConfigFrom(loadModelConfig(folder));
    s.side = model::vocabSide(name + " '" + folder + "'", cfg);
    s.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::fromFile(folder));
    s.side.tokenizer_size = s.tokenizer->size();
    auto tok = s.tokenizer;
    s.side.token_text = [tok](int64_t id) { return tok->idToToken(int32_t(id)); };
    return s;
}

}  // namespace

std::string compatibilityReport(const std::string& teacher_folder, const std::string& student_folder) {
    return withTorchErrors("compatibility of '" + teacher_folder + "' and '" + student_folder + "'", [&]() -> std::string {
        const Side t = sideOf("teacher", teacher_folder);
        const Side s = sideOf("student", student_folder);
        return model::checkCompatibility(t.side, s.side).text();
    });
}

RunEstimate estimateRun(const DistillConfig& c, int64_t student_parameters, int64_t teacher_parameters) {
    RunEstimate e;
    const bool toy = c.student.kind == ModelSourceKind::Toy;
    const double ps = double(student_parameters > 0 ? student_parameters : (toy ? 5e4 : 0));
    const double pt = double(teacher_parameters > 0 ? teacher_parameters : (toy ? 5e4 : ps));
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
    e.tokens_per_step = seqs * double(c.rollout.max_new_tokens) * 0.5;
    const double microSeqs = seqs / double(std::max<int64_t>(1, c.train.micro_batches));
    // Activations of one micro-batch: ~ 34 · hidden · tokens bytes per layer is the usual rule; with
    // no layer info use 2 bytes per parameter per 1k tokens as a coarse proxy.
    const double act = microSeqs * double(c.rollout.max_new_tokens) / 1000.0 * ps * 2.0 / 1000.0;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    e.memory_gib = (ps * bytes + trainable * (4.0 /*grad fp32*/ + 8.0 /*Adam m, v*/) + act) / gib;
    e.teacher_memory_gib = (pt * bytes + act * 0.5) / gib;
    // Time: generation ≈ 2·P flops per token, scoring and update ≈ 2·P + 6·P per token.
    const double flops = e.tokens_per_step * (2.0 * ps + 2.0 * pt + 6.0 * ps);
    const double rate = cuda ? 1e14 : 5e10;  // sustained flop/s: a big GPU vs a few CPU cores
    e.step_seconds = flops / rate;
    std::ostringstream os;
    os << std::setprecision(3);
    os << "student " << (ps > 0 ? std::to_string(int64_t(ps)) : std::string("?")) << " parameters, teacher "
       << (pt > 0 ? std::to_string(int64_t(pt)) : std::string("?")) << " parameters ("
       << (bf16 ? "bfloat16" : "float32") << ", " << (lora ? "LoRA" : "full fine-tuning") << ")\n";
    os << "per step: " << seqs << " rollouts, about " << e.tokens_per_step << " sampled tokens\n";
    os << "memory: student ≈ " << e.memory_gib << " GiB (weights, gradients, AdamW state, activations), teacher ≈ "
       << e.teacher_memory_gib << " GiB\n";
    os << "time: ≈ " << e.step_seconds << " s per step on " << c.train.device
       << " (rough: 10 flops per parameter per token at " << (cuda ? "100 Tflop/s" : "50 Gflop/s") << ")";
    if (c.train.max_steps > 0) os << ", ≈ " << e.step_seconds * double(c.train.max_steps) / 60.0 << " min for " << c.train.max_steps << " steps";
    os << "\n";
    e.text = os.str();
    return e;
}

}  // namespace xopd::session

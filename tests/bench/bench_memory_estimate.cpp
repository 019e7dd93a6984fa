// How close `xopd inspect --memory`'s estimate (core/model/checkpoint/ModelBudget.h) comes to what a
// training pass really takes: a Qwen3-MoE-shaped model (random fp32 weights, small enough for the
// CPU) runs one forward + backward at batch × length; the process's peak resident memory above its
// resident memory before the pass is compared with the estimate's gradients + activations, and the
// weights with the estimate's weights. Prints both and their ratio.
// usage: bench_memory_estimate [--batch B] [--length L]
#include "core/common/TorchRuntime.h"
#include "core/model/checkpoint/ModelBudget.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/model/runtime/TinyModels.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace xopd;
using namespace xopd::model;

namespace {

double residentMiB() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double peakMiB() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
    int64_t batch = 4, length = 512;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--length")) length = std::atoll(argv[i + 1]);
    }
    configureThreads(0);
    ModelRuntimeConfig c = tinyConfig(ModelKind::Qwen3MoeText);
    c.text.vocab_size = 4096;
    c.text.hidden_size = 256;
    c.text.num_attention_heads = 8;
    c.text.num_key_value_heads = 4;
    c.text.head_dim = 32;
    c.text.intermediate_size = 512;
    c.text.max_position_embeddings = 4096;
    c.text.moe.moe_intermediate_size = 256;
    const std::string folder = (std::filesystem::temp_directory_path() / ("xopd-bench-memory-" + std::to_string(getpid()))).string();
    writeModelFolder(folder, c, randomWeights(c));
    SpeechLm lm = loadModel(folder);
    std::filesystem::remove_all(folder);
    lm.to(torch::kFloat32);  // a private copy (not memory-mapped), as a trained model is
    for (auto& [name, t] : lm.decoder().namedParameters()) t->set_requires_grad(true);

    MemoryOptions o;
    o.training = Training::Full;
    o.batch = batch;
    o.sequence_length = length;
    o.weight_bytes = 4;
    o.train_router = true;  // every parameter gets a gradient here
    const MemoryNeed need = memoryNeedOf(parseModelConfig(toConfigJson(c), "bench config"), o);

    const torch::Tensor ids = torch::randint(0, c.text.vocab_size, {batch, length}, torch::kInt64);
    const double before = residentMiB();
    {
        DecoderInput in;
        in.input_ids = ids;
        const torch::Tensor logits = lm.decoder().forward(in).logits.to(torch::kFloat32);
        const torch::Tensor loss = -logits.log_softmax(-1).gather(-1, ids.unsqueeze(-1)).mean();
        loss.backward();
    }
    const double measured = peakMiB() - before;
    const double estimated = double(need.gradients + need.activations) / (1024.0 * 1024.0);
    std::printf("model: Qwen3-MoE-shaped, %lld layers, hidden %lld, %lld experts (top %lld), vocab %lld; batch %lld x %lld tokens, fp32\n",
                (long long)c.text.num_hidden_layers, (long long)c.text.hidden_size, (long long)c.text.moe.num_experts,
                (long long)c.text.moe.num_experts_per_tok, (long long)c.text.vocab_size, (long long)batch, (long long)length);
    std::printf("| | MiB |\n|---|---|\n| estimate: weights | %.1f |\n| estimate: gradients + activations | %.1f |\n"
                "| measured: peak RSS during forward + backward above the RSS before | %.1f |\n| measured / estimate | %.2f |\n",
                double(need.weights) / (1024.0 * 1024.0), estimated, measured, measured / estimated);
    return 0;
}

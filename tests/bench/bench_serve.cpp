// `xopd serve`'s batching: requests per second and scored tokens per second of the trainer's own
// scoring request (TeacherWire's vllm shape: teacher prompt + response, prompt_logprobs 5) sent
// one at a time vs from `--concurrency` client threads at once, which the server batches into
// shared forward passes. The server runs in this process (TeacherServer on 127.0.0.1, an ephemeral
// port, the real HTTP path); the model is a small random Qwen2 (hidden 256, 4 layers, the tiny
// tokenizer's 272 rows) so the CPU finishes in seconds. Prints a markdown table with the ratio.
//   bench_serve [--requests N] [--concurrency C] [--tokens T] [--threads N]
#include "core/common/Tensors.h"
#include "core/common/TorchRuntime.h"
#include "core/model/runtime/TinyModels.h"
#include "core/serve/TeacherServer.h"
#include "core/serve/TeacherWire.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace xopd;

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Sends every body from `concurrency` threads; returns the wall time. Aborts on a failed request.
double sendAll(const std::string& url, const std::vector<std::string>& bodies, int concurrency) {
    std::atomic<size_t> next{0};
    auto worker = [&] {
        httplib::Client c(url);
        c.set_read_timeout(300, 0);
        while (true) {
            const size_t i = next.fetch_add(1);
            if (i >= bodies.size()) return;
            auto r = c.Post("/v1/completions", bodies[i], "application/json");
            if (!r || r->status != 200) {
                std::fprintf(stderr, "bench_serve: request %zu failed: %s\n", i, r ? r->body.c_str() : httplib::to_string(r.error()).c_str());
                std::exit(1);
            }
        }
    };
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < concurrency; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    return seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
    int requests = 64, concurrency = 16, tokens = 96, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    }
    at::set_num_threads(threads);
    const auto dir = std::filesystem::temp_directory_path() / ("bench_serve." + std::to_string(::getpid()));
    model::ModelRuntimeConfig c = model::tinyChatConfig(model::ModelKind::Qwen2Text);
    c.text.hidden_size = 256;
    c.text.num_hidden_layers = 4;
    c.text.num_attention_heads = 8;
    c.text.num_key_value_heads = 2;
    c.text.head_dim = 32;
    c.text.intermediate_size = 704;
    c.text.max_position_embeddings = 4096;
    model::RandomWeightOptions wo;
    wo.std = 0.05;
    model::writeModelFolder(dir.string(), c, model::randomWeights(c, wo));
    model::writeTinyTokenizer(dir.string());

    serve::TeacherServerOptions o;
    o.model_dir = dir.string();
    o.port = 0;
    serve::TeacherServer server(o);
    const int port = server.bind();
    std::thread listener([&] { server.listen(); });
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> id(0, 265);
    std::vector<std::string> bodies;
    for (int r = 0; r < requests; ++r) {
        std::vector<int64_t> ids(static_cast<size_t>(tokens));
        for (auto& v : ids) v = id(rng);
        bodies.push_back(serve::encodeScoreRequest(serve::TeacherApi::Vllm, ids, 5, server.modelName()).dump());
    }
    sendAll(url, std::vector<std::string>(bodies.begin(), bodies.begin() + std::min(4, requests)), 1);  // warm-up
    const double alone = sendAll(url, bodies, 1);
    const double together = sendAll(url, bodies, concurrency);
    server.stop();
    listener.join();
    std::filesystem::remove_all(dir);

    const double scored = double(requests) * double(tokens - 1);
    std::printf("| mode | requests | tokens each | wall s | requests/s | scored tokens/s |\n|---|---|---|---|---|---|\n");
    std::printf("| one at a time | %d | %d | %.2f | %.1f | %.0f |\n", requests, tokens, alone, requests / alone, scored / alone);
    std::printf("| %d clients at once (batched) | %d | %d | %.2f | %.1f | %.0f |\n", concurrency, requests, tokens, together,
                requests / together, scored / together);
    std::printf("\nbatched / one at a time: %.2fx (LibTorch threads: %d)\n", alone / together, threads);
    return 0;
}

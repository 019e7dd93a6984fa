// Tokenizer throughput (MB of UTF-8 per second) of the C++ byte-level BPE on the real Qwen
// vocabulary, over the test corpus repeated to about 4 MB. bench-text.sh times the JS tokenizer
// (transformers.js, @lenml/tokenizers) on the same text in the same run.
// usage: bench_tokenizer TOKENIZER_JSON CORPUS_JSONL [--megabytes M]
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER_JSON CORPUS_JSONL [--megabytes M]\n");
        return 2;
    }
    double megabytes = 4;
    if (argc >= 5 && !std::strcmp(argv[3], "--megabytes")) megabytes = std::atof(argv[4]);
    const auto tok = xopd::text::Tokenizer::fromFile(argv[1]);
    std::vector<std::string> texts;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) texts.push_back(nlohmann::json::parse(line)["text"]);
    // The same document the JS side builds: the corpus texts joined by "\n", repeated.
    std::string one;
    for (const auto& t : texts) one += t + "\n";
    std::string doc;
    while (double(doc.size()) < megabytes * 1e6) doc += one;
    tok.encode(one);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(doc);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("bytes %zu\ntokens %zu\nseconds %.4f\nmb_per_s %.3f\n", doc.size(), ids.size(), s, double(doc.size()) / 1e6 / s);
    return 0;
}

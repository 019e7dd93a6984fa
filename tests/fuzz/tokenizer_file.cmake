# fuzz_tokenizer_file: libFuzzer target for the tokenizer FILE loader (TokenizerFiles.cpp and the
# tables Tokenizer builds from it): the input is a tokenizer.json, or a vocab.json + merges.txt +
# tokenizer_config.json + added_tokens.json bundle (see fuzz_tokenizer_file.cpp), written to disk
# and loaded with Tokenizer::fromFile. Seeds: trimmed real Qwen3, Llama 3 and DeepSeek-V3 files.
# Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_tokenizer_file
xopd_add_fuzzer(fuzz_tokenizer_file SOURCES ${XOPD_TEXT_SOURCES} LIBS PkgConfig::PCRE2 PkgConfig::ICU)

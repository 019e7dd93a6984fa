# fuzz_tokenizer: libFuzzer target for the byte-level BPE tokenizer's encode/decode on the real
# Qwen vocabulary (tests/data/text/qwen3/tokenizer.json); the input is the text.
# Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_tokenizer
xopd_add_fuzzer(fuzz_tokenizer SOURCES ${XOPD_TEXT_SOURCES} LIBS PkgConfig::PCRE2 PkgConfig::ICU
  DEFINITIONS XOPD_FUZZ_TOKENIZER_JSON="${PROJECT_SOURCE_DIR}/tests/data/text/qwen3/tokenizer.json")

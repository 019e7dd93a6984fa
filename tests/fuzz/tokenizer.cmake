# fuzz_tokenizer: libFuzzer target for the byte-level BPE tokenizer on the real Qwen vocabulary
# (tests/data/text/qwen3/tokenizer.json). Torch-free: the xopd_text sources, Error.cpp and Json.cpp
# compiled on their own with clang, ASan and UBSan (preset `fuzz`). Run: tests/fuzz/run-fuzzers.sh.
add_executable(fuzz_tokenizer
  ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_tokenizer.cpp
  ${XOPD_TEXT_SOURCES}
  ${PROJECT_SOURCE_DIR}/core/common/Error.cpp
  ${PROJECT_SOURCE_DIR}/core/common/Json.cpp)
target_include_directories(fuzz_tokenizer PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(fuzz_tokenizer PRIVATE
  XOPD_FUZZ_TOKENIZER_JSON="${PROJECT_SOURCE_DIR}/tests/data/text/qwen3/tokenizer.json")
target_link_libraries(fuzz_tokenizer PRIVATE nlohmann_json::nlohmann_json PkgConfig::PCRE2 PkgConfig::ICU
                      xopd_options xopd_warnings)
target_compile_options(fuzz_tokenizer PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                       -fno-omit-frame-pointer -g)
target_link_options(fuzz_tokenizer PRIVATE -fsanitize=fuzzer,address,undefined)

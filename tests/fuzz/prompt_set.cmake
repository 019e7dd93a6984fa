# fuzz_prompt_set: libFuzzer target for prompt-set manifests (PromptSet.cpp: loadPromptSet,
# parsePromptLine, promptItemToJsonLine). Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_prompt_set
xopd_add_fuzzer(fuzz_prompt_set SOURCES ${PROJECT_SOURCE_DIR}/core/data/PromptSet.cpp)

# fuzz_model_config: libFuzzer target for config.json parsing (ModelConfig.cpp, parseModelConfig).
# Seeds: the config.json shapes of Qwen2.5, Qwen2-Audio and Qwen2.5-Omni.
# Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_model_config
xopd_add_fuzzer(fuzz_model_config SOURCES ${PROJECT_SOURCE_DIR}/core/model/checkpoint/ModelConfig.cpp)

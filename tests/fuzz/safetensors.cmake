# fuzz_safetensors: libFuzzer target for the safetensors header parser/validator
# (SafetensorsHeader.cpp). Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_safetensors
xopd_add_fuzzer(fuzz_safetensors SOURCES ${PROJECT_SOURCE_DIR}/core/model/checkpoint/SafetensorsHeader.cpp)

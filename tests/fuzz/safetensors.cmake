# fuzz_safetensors: libFuzzer target for the safetensors header parser/validator. Torch-free: it
# compiles SafetensorsHeader.cpp and Error.cpp on its own with clang, ASan and UBSan (preset `fuzz`).
# Run: tests/fuzz/run-fuzzers.sh [SECONDS]
add_executable(fuzz_safetensors
  ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_safetensors.cpp
  ${PROJECT_SOURCE_DIR}/core/model/checkpoint/SafetensorsHeader.cpp
  ${PROJECT_SOURCE_DIR}/core/common/Error.cpp)
target_include_directories(fuzz_safetensors PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(fuzz_safetensors PRIVATE nlohmann_json::nlohmann_json xopd_options xopd_warnings)
target_compile_options(fuzz_safetensors PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                       -fno-omit-frame-pointer -g)
target_link_options(fuzz_safetensors PRIVATE -fsanitize=fuzzer,address,undefined)

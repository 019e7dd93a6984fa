# Model benchmark: prefill/decode throughput of a Qwen2.5-0.5B-shaped decoder vs the bandwidth floor.
add_executable(bench_model ${CMAKE_CURRENT_SOURCE_DIR}/bench_model.cpp)
target_link_libraries(bench_model PRIVATE Xopd::core xopd_options xopd_warnings)

# Model benchmark: prefill/decode throughput of a Qwen2.5-0.5B-shaped decoder vs the bandwidth floor.
add_executable(bench_model ${CMAKE_CURRENT_SOURCE_DIR}/bench_model.cpp)
target_link_libraries(bench_model PRIVATE Xopd::core xopd_options xopd_warnings)

# MoE benchmark: a Qwen3-30B-A3B-shaped sparse layer vs a dense layer with the same active parameters.
add_executable(bench_moe ${CMAKE_CURRENT_SOURCE_DIR}/bench_moe.cpp)
target_link_libraries(bench_moe PRIVATE Xopd::core xopd_options xopd_warnings)

# The memory estimate of `xopd inspect --memory` against a measured forward + backward.
add_executable(bench_memory_estimate ${CMAKE_CURRENT_SOURCE_DIR}/bench_memory_estimate.cpp)
target_link_libraries(bench_memory_estimate PRIVATE Xopd::core xopd_options xopd_warnings)

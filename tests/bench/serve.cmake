# `xopd serve`'s batching: the trainer's scoring request one at a time vs from many clients at once.
add_executable(bench_serve ${CMAKE_CURRENT_SOURCE_DIR}/bench_serve.cpp)
target_link_libraries(bench_serve PRIVATE Xopd::core xopd_options xopd_warnings)

# Tokenizer benchmark: MB/s of the C++ BPE vs the JS tokenizer (bench-text.sh).
add_executable(bench_tokenizer ${CMAKE_CURRENT_SOURCE_DIR}/bench_tokenizer.cpp)
target_link_libraries(bench_tokenizer PRIVATE Xopd::core xopd_options xopd_warnings)

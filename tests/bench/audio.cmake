# Audio benchmark: Whisper log-mel extraction speed (x real time) vs the numpy reference.
add_executable(bench_audio ${CMAKE_CURRENT_SOURCE_DIR}/bench_audio.cpp)
target_link_libraries(bench_audio PRIVATE Xopd::core xopd_options xopd_warnings)

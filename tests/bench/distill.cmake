# bench_distill: time per X-OPD step split into rollout / teacher scoring / update (bench-distill.sh).
add_executable(bench_distill ${CMAKE_CURRENT_LIST_DIR}/bench_distill.cpp)
target_link_libraries(bench_distill PRIVATE Xopd::core xopd_options xopd_warnings)
target_precompile_headers(bench_distill REUSE_FROM xopd_common)

# fuzz_distill_config: libFuzzer target for run configs (DistillConfig.cpp: distillConfigFromJson,
# validate, toJson). The knob table (Knobs.cpp) that validate() consults is compiled in when present,
# and the served teacher's URL / API parsing (core/serve/TeacherWire.cpp, sha256 from libcrypto).
# Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_distill_config
set(_xopd_distill_config_sources ${PROJECT_SOURCE_DIR}/core/distill/DistillConfig.cpp)
if(EXISTS ${PROJECT_SOURCE_DIR}/core/distill/Knobs.cpp)
  list(APPEND _xopd_distill_config_sources ${PROJECT_SOURCE_DIR}/core/distill/Knobs.cpp)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/core/serve/TeacherWire.cpp)
  list(APPEND _xopd_distill_config_sources ${PROJECT_SOURCE_DIR}/core/serve/TeacherWire.cpp)
endif()
xopd_add_fuzzer(fuzz_distill_config SOURCES ${_xopd_distill_config_sources} LIBS crypto)

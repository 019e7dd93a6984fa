# fuzz_teacher_wire: libFuzzer target for a served teacher's wire formats (TeacherWire.cpp: the
# client's decoders of vLLM / OpenAI-echo / SGLang answers and model cards; CompletionRequest.cpp:
# the server's request parser and answer encoder). Run: tests/fuzz/run-fuzzers.sh [SECONDS] fuzz_teacher_wire
xopd_add_fuzzer(fuzz_teacher_wire
  SOURCES ${PROJECT_SOURCE_DIR}/core/serve/TeacherWire.cpp ${PROJECT_SOURCE_DIR}/core/serve/CompletionRequest.cpp
  LIBS crypto)

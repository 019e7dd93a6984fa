# Test registration helpers. Labels: core, gui, slow, gpu, bench.
#   ctest -LE "slow|gpu"   fast CPU tests     ctest -L gui   GUI tests only
if(XOPD_BUILD_TESTS)
  enable_testing()
endif()

# xopd_add_qtest(NAME SOURCES a.cpp b.cpp LIBS lib... LABELS core slow TIMEOUT 600)
function(xopd_add_qtest name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
  if(NOT XOPD_HAVE_QTTEST)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} Qt6::Test xopd_test_support xopd_options xopd_warnings)
  set_target_properties(${name} PROPERTIES AUTOMOC ON)
  if(NOT XOPD_TEST_DEBUG_INFO AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_link_options(${name} PRIVATE -Wl,--strip-debug)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;OMP_WAIT_POLICY=PASSIVE;XOPD_SOURCE_DIR=${PROJECT_SOURCE_DIR};XOPD_BINARY_DIR=${PROJECT_BINARY_DIR};XOPD_CLI=$<TARGET_FILE:xopd>;${T_ENV}")
endfunction()

# Build options and the INTERFACE targets every project target links PRIVATE.
option(XOPD_GUI "Build the Qt widgets, the workbench GUI and the GUI tests" ON)
option(XOPD_BUILD_TESTS "Build the test executables and register them with CTest" ON)
option(XOPD_CUDA "Build the CUDA kernels when a CUDA toolkit is found" ON)
option(XOPD_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
option(XOPD_BUILD_BENCH "Build the benchmarks of tests/bench (`make bench` turns it on)" OFF)
# One translation unit per few sources for the LibTorch-heavy libraries: each unit loads the
# precompiled header and instantiates the shared templates once instead of once per source.
option(XOPD_UNITY_BUILD "Unity-build the LibTorch-heavy core libraries and tests" ON)
option(XOPD_WERROR "Treat warnings as errors" OFF)
# The test programs link without DWARF (their symbols stay, so a crash still names functions):
# some 70 of them link the whole core, and writing its debug info into each cost more link time
# and disk than the rest of the build. ON keeps it, for stepping through a test in gdb.
option(XOPD_TEST_DEBUG_INFO "Keep debug info in the test executables" OFF)

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
# Qt requires PIC; building everything PIC also lets every target reuse one precompiled header.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

add_library(xopd_options INTERFACE)
target_compile_definitions(xopd_options INTERFACE XOPD_VERSION="${PROJECT_VERSION}")

add_library(xopd_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(xopd_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
  if(XOPD_WERROR)
    target_compile_options(xopd_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endif()

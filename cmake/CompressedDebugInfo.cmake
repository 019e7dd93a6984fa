# Compressed debug info (-gz). A RelWithDebInfo build links LibTorch-heavy core libraries into
# some 60 test programs; uncompressed, their DWARF made the build folder 9 GB and filled the CI
# machine's disk mid-build. zlib-compressed sections keep every symbol and line for gdb and
# perf while taking a fraction of the space; the compiler and linker both need the flag.
include(CheckCXXCompilerFlag)
include(CheckLinkerFlag)
check_cxx_compiler_flag(-gz XOPD_HAS_GZ_COMPILE)
check_linker_flag(CXX -gz XOPD_HAS_GZ_LINK)
if(XOPD_HAS_GZ_COMPILE AND XOPD_HAS_GZ_LINK)
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-gz>)
  add_link_options($<$<LINK_LANGUAGE:C,CXX>:-gz>)
  message(STATUS "xopd: compressed debug info (-gz)")
endif()

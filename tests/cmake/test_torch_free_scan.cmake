# cmake -DROOT=<this folder>/torch-scan-tree -P test_torch_free_scan.cmake
# The include scan of cmake/TorchFreeSources.cmake on a fixture tree with an include cycle:
# root.cpp -> a.h -> {b.h -> a.h (cycle), d.h -> <torch/...>}. b.h reaches LibTorch only through
# a.h, whose scan is unfinished when b.h's ends; scanned first through root.cpp, b.h must still be
# found to reach LibTorch when via_cycle.cpp is scanned afterwards. free.cpp reaches none.
cmake_policy(SET CMP0054 NEW)
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/TorchFreeSources.cmake")
set(PROJECT_SOURCE_DIR "${ROOT}")
set(failures "")
foreach(pair "root.cpp=TRUE" "via_cycle.cpp=TRUE" "free.cpp=FALSE")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 source)
  list(GET pair 1 expected)
  _xopd_reaches_torch("${ROOT}/${source}" reaches open)
  if(NOT "${reaches}" STREQUAL "${expected}")
    string(APPEND failures " ${source}: reaches LibTorch = ${reaches}, expected ${expected};")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "include scan wrong:${failures}")
endif()
message(STATUS "include scan: root.cpp and via_cycle.cpp reach LibTorch, free.cpp does not")

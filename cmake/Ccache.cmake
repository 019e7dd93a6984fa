# Use ccache when present. LibTorch headers are slow to compile on small machines; the sloppiness
# settings let ccache cache translation units that use the precompiled header, and BASEDIR lets
# fresh clones at other paths hit the same cache. With -g, ccache also hashes the working folder
# (the debug info names it) unless NOHASHDIR is set: the debug info's paths are made relative to
# the source root instead (-fdebug-prefix-map), so a second clone or worktree reuses every object.
find_program(XOPD_CCACHE ccache)
if(XOPD_CCACHE)
  set(_launcher ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1 ${XOPD_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${_launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_launcher})
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fdebug-prefix-map=${CMAKE_SOURCE_DIR}=.>)
  message(STATUS "xopd: using ccache (${XOPD_CCACHE})")
endif()

#[[ Checks that no core folder includes a folder above it.
    cmake -DROOT=<source tree> -P cmake/CheckCoreLayers.cmake

    The layer order (lowest first) is the one README "Layout" states; a file under core/<folder>/
    may include "core/<other>/..." only when <other> comes before <folder> in it (or is <folder>).
    A file under core/ may never include a Qt header. Fails listing every offending include. ]]
cmake_policy(VERSION 3.25)
set(XOPD_CORE_LAYERS common dist audio text model serve data eval demokit distill run session)

if(NOT ROOT)
  message(FATAL_ERROR "CheckCoreLayers: pass -DROOT=<source tree>")
endif()

set(violations "")
foreach(folder IN LISTS XOPD_CORE_LAYERS)
  list(FIND XOPD_CORE_LAYERS ${folder} own_rank)
  file(GLOB_RECURSE sources "${ROOT}/core/${folder}/*.h" "${ROOT}/core/${folder}/*.cpp" "${ROOT}/core/${folder}/*.in")
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    file(RELATIVE_PATH shown "${ROOT}" "${source}")
    foreach(line IN LISTS includes)
      if(line MATCHES "[\"<]core/([A-Za-z0-9_]+)/")
        set(target ${CMAKE_MATCH_1})
        list(FIND XOPD_CORE_LAYERS ${target} target_rank)
        if(target_rank EQUAL -1)
          list(APPEND violations "${shown}: includes core/${target}/, a folder missing from the layer order")
        elseif(target_rank GREATER own_rank)
          list(APPEND violations "${shown}: core/${folder} includes core/${target}, which is above it")
        endif()
      elseif(line MATCHES "[\"<](Q[A-Za-z]+/|Q[A-Z][A-Za-z]+>)")
        list(APPEND violations "${shown}: includes a Qt header (${line})")
      endif()
    endforeach()
  endforeach()
endforeach()

file(GLOB present LIST_DIRECTORIES true RELATIVE "${ROOT}/core" "${ROOT}/core/*")
foreach(entry IN LISTS present)
  if(IS_DIRECTORY "${ROOT}/core/${entry}" AND NOT entry IN_LIST XOPD_CORE_LAYERS)
    list(APPEND violations "core/${entry}/: a folder missing from the layer order in cmake/CheckCoreLayers.cmake")
  endif()
endforeach()

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "core layer violations:\n  ${text}")
endif()
message(STATUS "core layers ok: ${XOPD_CORE_LAYERS}")

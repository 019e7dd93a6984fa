#[[ CPack post-build step (CPACK_POST_BUILD_SCRIPTS, cmake/Packaging.cmake) for the -dbgsym .ddeb,
    which CPack 3.25 writes with two faults lintian reports as errors: its md5sums lists the build
    machine's absolute staging paths instead of package paths, and it has no copyright file or
    changelog. This unpacks it, rewrites md5sums, links /usr/share/doc/<name>-dbgsym to the main
    package's doc folder (as debhelper's dbgsym packages do; the .ddeb Depends on that exact
    version) and packs it again with dpkg-deb. The main .deb is left as CPack wrote it. ]]
foreach(ddeb IN LISTS CPACK_PACKAGE_FILES)
  if(NOT ddeb MATCHES "/([^/_]+)-dbgsym_[^/]*\\.ddeb$")
    continue()
  endif()
  set(main_name ${CMAKE_MATCH_1})
  set(work "${ddeb}.unpacked")
  file(REMOVE_RECURSE "${work}")
  execute_process(COMMAND dpkg-deb --raw-extract "${ddeb}" "${work}" COMMAND_ERROR_IS_FATAL ANY)
  file(GLOB_RECURSE files RELATIVE "${work}" LIST_DIRECTORIES false "${work}/usr/*")
  list(SORT files)
  set(sums "")
  foreach(rel IN LISTS files)
    file(MD5 "${work}/${rel}" sum)
    string(APPEND sums "${sum}  ${rel}\n")
  endforeach()
  file(WRITE "${work}/DEBIAN/md5sums" "${sums}")
  file(MAKE_DIRECTORY "${work}/usr/share/doc")
  file(CREATE_LINK ${main_name} "${work}/usr/share/doc/${main_name}-dbgsym" SYMBOLIC)
  execute_process(COMMAND dpkg-deb --root-owner-group -Zgzip --build "${work}" "${ddeb}"
                  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE_RECURSE "${work}")
  message(STATUS "FixDbgsymPackage: ${ddeb}: md5sums with package paths, doc folder linked to ${main_name}")
endforeach()

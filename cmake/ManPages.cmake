#[[ Manual pages (section 1, gzipped) for xopd and xopd-workbench, written from their --help by
    help2man (cmake/MakeManPage.cmake) when the project is installed or packaged (cmake --install,
    cpack), not on every build: each page runs its program, which costs seconds per relink.
    Without help2man (packaging/setup-debian.sh installs it) the package has no manual pages. ]]
include(GNUInstallDirs)
find_program(XOPD_HELP2MAN help2man)
if(NOT XOPD_HELP2MAN)
  message(WARNING "xopd: help2man not found: `make package` will have no manual pages")
endif()

# xopd_install_man_page(TARGET "one-line summary" INCLUDE_FILE [SUBCOMMANDS])
function(xopd_install_man_page target name include)
  if(NOT XOPD_HELP2MAN)
    return()
  endif()
  set(subcommands OFF)
  if("SUBCOMMANDS" IN_LIST ARGN)
    set(subcommands ON)
  endif()
  set(out ${PROJECT_BINARY_DIR}/man/${target}.1.gz)
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/man)
  # OMP_WAIT_POLICY set spares the programs their re-exec (core/common/TorchRuntime.h).
  install(CODE "execute_process(COMMAND \"${CMAKE_COMMAND}\" -E env OMP_WAIT_POLICY=PASSIVE
      \"${CMAKE_COMMAND}\" \"-DEXE=$<TARGET_FILE:${target}>\" \"-DNAME=${name}\" \"-DINCLUDE=${include}\"
      \"-DOUT=${out}\" -DSUBCOMMANDS=${subcommands} \"-DHELP2MAN=${XOPD_HELP2MAN}\"
      -P \"${PROJECT_SOURCE_DIR}/cmake/MakeManPage.cmake\" COMMAND_ERROR_IS_FATAL ANY)")
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()

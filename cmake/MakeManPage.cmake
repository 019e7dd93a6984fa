#[[ Writes one gzipped section-1 manual page from a program's --help and --version (help2man),
    run at build time by cmake/ManPages.cmake:
      cmake -DEXE=path -DNAME="one-line summary" -DINCLUDE=file.h2m -DOUT=prog.1.gz
            [-DSUBCOMMANDS=ON] -DHELP2MAN=path -P MakeManPage.cmake
    SUBCOMMANDS=ON adds a COMMANDS section with the subcommands' options (CLI11's --help-all), so
    the page documents every command. ]]
foreach(v EXE NAME INCLUDE OUT HELP2MAN)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "MakeManPage.cmake: -D${v}=... is required")
  endif()
endforeach()
get_filename_component(_prog "${EXE}" NAME)
set(_work "${OUT}.work")
set(_includes --include "${INCLUDE}")

# *roff-safe verbatim text: backslashes escaped, a leading . or ' neutralised.
function(_roff_verbatim text out_var)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

if(SUBCOMMANDS)
  execute_process(COMMAND "${EXE}" --help-all OUTPUT_VARIABLE _all RESULT_VARIABLE _rc)
  string(FIND "${_all}" "\nSubcommands:\n" _at)
  if(NOT _rc EQUAL 0 OR _at LESS 0)
    message(FATAL_ERROR "MakeManPage.cmake: '${EXE} --help-all' failed (${_rc}) or lists no subcommands")
  endif()
  math(EXPR _at "${_at} + 14")
  string(SUBSTRING "${_all}" ${_at} -1 _all)
  _roff_verbatim("${_all}" _all)
  file(WRITE "${_work}.commands.h2m" "[COMMANDS]\nEvery command with its options (\\fB${_prog} --help-all\\fR):\n.PP\n.nf\n${_all}.fi\n")
  list(APPEND _includes --include "${_work}.commands.h2m")
endif()

execute_process(
  COMMAND "${HELP2MAN}" --no-info --section 1 --name "${NAME}" ${_includes} --output "${_work}" "${EXE}"
  RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "MakeManPage.cmake: help2man failed on '${EXE}' (${_rc}): ${_err}")
endif()
# gzip -9n: best compression and no name or time stamp inside, as Debian policy asks.
execute_process(COMMAND gzip -9n -c "${_work}" OUTPUT_FILE "${OUT}.tmp" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "MakeManPage.cmake: gzip failed on '${_work}'")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
file(REMOVE "${_work}" "${_work}.commands.h2m")

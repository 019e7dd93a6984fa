#[[ Sources that never see LibTorch skip its precompiled header.

    Loading the LibTorch precompiled header costs a translation unit several CPU seconds even when
    the unit uses none of it (Error.cpp, an empty moc file). xopd_skip_torch_pch(TARGET) finds the
    target's sources whose include closure within this source tree reaches no LibTorch header
    (<torch/...>, <ATen/...>, <c10/...>) and compiles them without the precompiled header and
    outside unity batches; the rest keep both. Every include line counts, even one under an #if, so
    a source is only ever classified torch-free when it cannot reach LibTorch.

    The scan reads each file once per configure (results are kept in global properties; a result that
    hung on an unfinished include cycle is recomputed). ]]

# Sets ${out} to TRUE when ${file} (absolute path) or any header of this tree it includes, directly or
# through other headers of this tree, includes a LibTorch header. ${open_out} gets the files of an
# include cycle that were still being scanned when ${file}'s closure reached them: a FALSE that
# depends on such a file is only final once that file's own scan ends, so it is not cached before.
function(_xopd_reaches_torch file out open_out)
  get_property(state GLOBAL PROPERTY "XOPD_REACHES_TORCH_${file}")
  if("${state}" STREQUAL "SCANNING")
    set(${out} FALSE PARENT_SCOPE)
    set(${open_out} "${file}" PARENT_SCOPE)
    return()
  elseif(NOT "${state}" STREQUAL "")
    set(${out} ${state} PARENT_SCOPE)
    set(${open_out} "" PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "XOPD_REACHES_TORCH_${file}" SCANNING)
  set(result FALSE)
  set(open "")
  if(EXISTS "${file}")
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    get_filename_component(here "${file}" DIRECTORY)
    foreach(line IN LISTS includes)
      if(NOT line MATCHES "include[ \t]*[\"<]([^\">]+)[\">]")
        continue()
      endif()
      set(name "${CMAKE_MATCH_1}")
      if(name MATCHES "^(torch|ATen|c10|caffe2)/")
        set(result TRUE)
        break()
      endif()
      foreach(candidate "${PROJECT_SOURCE_DIR}/${name}" "${here}/${name}")
        if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
          get_filename_component(candidate "${candidate}" ABSOLUTE)
          _xopd_reaches_torch("${candidate}" nested nested_open)
          list(APPEND open ${nested_open})
          if(nested)
            set(result TRUE)
          endif()
          break()
        endif()
      endforeach()
      if(result)
        break()
      endif()
    endforeach()
  endif()
  list(REMOVE_ITEM open "${file}")
  list(REMOVE_DUPLICATES open)
  if(result OR NOT open)
    set_property(GLOBAL PROPERTY "XOPD_REACHES_TORCH_${file}" ${result})
    set(open "")
  else()
    set_property(GLOBAL PROPERTY "XOPD_REACHES_TORCH_${file}" "")
  endif()
  set(${out} ${result} PARENT_SCOPE)
  set(${open_out} "${open}" PARENT_SCOPE)
endfunction()

# xopd_skip_torch_pch(TARGET): call in the folder that creates TARGET, after its sources are known.
function(xopd_skip_torch_pch target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(torch_free "")
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.(cpp|cc|cxx)$")
      continue()
    endif()
    get_filename_component(path "${source}" ABSOLUTE BASE_DIR "${source_dir}")
    _xopd_reaches_torch("${path}" uses_torch open)
    if(NOT uses_torch)
      list(APPEND torch_free "${path}")
    endif()
  endforeach()
  if(torch_free)
    set_source_files_properties(${torch_free} PROPERTIES SKIP_PRECOMPILE_HEADERS ON SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
endfunction()

# xopd_skip_pch_for_automoc(TARGET): the moc translation unit AUTOMOC adds to TARGET
# (TARGET_autogen/mocs_compilation.cpp, empty when every Q_OBJECT lives in a .cpp that includes its
# own .moc) includes only Qt and generated code: it never needs the LibTorch precompiled header.
function(xopd_skip_pch_for_automoc target)
  get_target_property(binary_dir ${target} BINARY_DIR)
  set_source_files_properties("${binary_dir}/${target}_autogen/mocs_compilation.cpp"
    TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

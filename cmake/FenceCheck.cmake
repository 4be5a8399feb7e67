# SPDX-License-Identifier: MPL-2.0
# The layer_fences ctest (tests/cmake/headers.cmake): cmake -P this script
# with -DBUILD_DIR=<build tree> -DPROBES=<target>=<header>,... where each
# target is a probe that includes <header> across a forbidden arrow of
# cmake/Layers.cmake. Every probe must fail to compile because <header> is
# not found; a probe that compiles means the fence is open.
if(NOT BUILD_DIR OR NOT PROBES)
  message(FATAL_ERROR "usage: cmake -DBUILD_DIR=dir -DPROBES=t=h,... -P FenceCheck.cmake")
endif()
string(REPLACE "," ";" probes "${PROBES}")
set(failed 0)
foreach(p ${probes})
  string(FIND "${p}" "=" eq)
  string(SUBSTRING "${p}" 0 ${eq} target)
  math(EXPR eq "${eq} + 1")
  string(SUBSTRING "${p}" ${eq} -1 header)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${target}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(FIND "${out}" "${header}" at)
  if(rc EQUAL 0)
    message(SEND_ERROR "${target}: \"${header}\" compiled: the fence is open")
    set(failed 1)
  elseif(at EQUAL -1 OR NOT out MATCHES "(No such file or directory|file not found)")
    message(SEND_ERROR "${target}: failed, but not on \"${header}\" not found:\n${out}")
    set(failed 1)
  else()
    message(STATUS "${target}: \"${header}\" not found, as it must be")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "layer fences: see above")
endif()

# SPDX-License-Identifier: MPL-2.0
# Layer fences (DESIGN.md section 1, issue 8). Project headers are included
# as "<layer>/<path>.h" ("common/buf.h", "replicator/db/db.h"). There is no
# include path holding the whole tree: every layer L has an include root
# ${RD_INC_DIR}/L that holds a single symlink L -> ${CMAKE_SOURCE_DIR}/L,
# and the code of a layer is compiled with the roots of the layers it may
# use, and no others. Including a header of any other layer is then a
# compile error ("No such file or directory"). The arrows:
#
#   common     -> common
#   sledagent  -> common, sledagent
#   replicator -> common, replicator
#   sim        -> common, sim
#   tests, bench: the whole source tree
#
# scripts/lint.sh checks the same arrows over the #include lines, and the
# ctests headers_selfcontained and layer_fences (tests/cmake/headers.cmake)
# check that the build enforces them.
#
# The roots are given per directory (rd_add_layer_dir below), so every
# target defined in a layer's CMakeLists.txt, and every .c it globs, gets
# them with no further edit. rd_check_layers() then fails the configure
# step if a layer target adds a source directory or a forbidden root to its
# include path, or links a library of a layer it may not use.

set(RD_INC_DIR ${CMAKE_BINARY_DIR}/inc)
set(RD_LAYERS common sledagent replicator sim)
set(RD_LAYER_USES_common common)
set(RD_LAYER_USES_sledagent common sledagent)
set(RD_LAYER_USES_replicator common replicator)
set(RD_LAYER_USES_sim common sim)

foreach(layer ${RD_LAYERS})
  file(MAKE_DIRECTORY ${RD_INC_DIR}/${layer})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${layer} ${RD_INC_DIR}/${layer}/${layer}
       SYMBOLIC RESULT rd_link_result)
  if(NOT rd_link_result EQUAL 0)
    message(FATAL_ERROR "cannot create ${RD_INC_DIR}/${layer}/${layer}: "
                        "${rd_link_result}")
  endif()
endforeach()

# rd_layer_includes(OUT LAYER): the include directories of code in LAYER
# (one of RD_LAYERS; anything else, tests and bench, sees the source tree).
function(rd_layer_includes out layer)
  if(layer IN_LIST RD_LAYERS)
    set(dirs "")
    foreach(used ${RD_LAYER_USES_${layer}})
      list(APPEND dirs ${RD_INC_DIR}/${used})
    endforeach()
  else()
    set(dirs ${CMAKE_SOURCE_DIR})
  endif()
  set(${out} ${dirs} PARENT_SCOPE)
endfunction()

# rd_add_layer_dir(DIR): add_subdirectory(DIR) with the include roots of
# layer DIR. A subdirectory starts with its parent's INCLUDE_DIRECTORIES, so
# they are set here for the duration of the call and cleared again. A macro,
# so that DIR is added from the caller's scope as a plain add_subdirectory.
macro(rd_add_layer_dir dir)
  rd_layer_includes(rd_layer_dirs ${dir})
  set_property(DIRECTORY PROPERTY INCLUDE_DIRECTORIES ${rd_layer_dirs})
  add_subdirectory(${dir})
  set_property(DIRECTORY PROPERTY INCLUDE_DIRECTORIES "")
  unset(rd_layer_dirs)
endmacro()

# rd_check_layers(): called once every directory is added. Fails the
# configure step if a target of a layer directory reaches past the fence by
# other means than its directory's roots: a source directory, or the root of
# a layer it may not use, on its include path (own or INTERFACE), or a link
# to a library defined in such a layer. Generator expressions are not
# evaluated (left unchecked); third-party (imported) targets are not layers.
function(rd_layer_of out dir)
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${dir})
  string(REGEX REPLACE "/.*$" "" top "${rel}")
  if(top IN_LIST RD_LAYERS)
    set(${out} ${top} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

function(rd_check_layer_dir layer dir)
  set(uses ${RD_LAYER_USES_${layer}})
  string(REPLACE ";" ", " uses_text "${uses}")
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(incs ${t} INCLUDE_DIRECTORIES)
    get_target_property(iincs ${t} INTERFACE_INCLUDE_DIRECTORIES)
    foreach(inc ${incs} ${iincs})
      if(inc MATCHES "NOTFOUND$" OR inc MATCHES "\\$<")
        continue()
      endif()
      string(FIND "${inc}/" "${RD_INC_DIR}/" in_roots)
      string(FIND "${inc}/" "${CMAKE_BINARY_DIR}/" in_build)
      string(FIND "${inc}/" "${CMAKE_SOURCE_DIR}/" in_source)
      if(in_roots EQUAL 0)
        file(RELATIVE_PATH root ${RD_INC_DIR} ${inc})
        if(NOT root IN_LIST uses)
          message(FATAL_ERROR "layer fence: target ${t} (${layer}/) has "
            "${inc} on its include path; ${layer}/ may use only: ${uses_text} "
            "(cmake/Layers.cmake)")
        endif()
      elseif(in_source EQUAL 0 AND NOT in_build EQUAL 0)
        message(FATAL_ERROR "layer fence: target ${t} (${layer}/) has the "
          "source directory ${inc} on its include path; layers see only "
          "their roots under ${RD_INC_DIR} (cmake/Layers.cmake)")
      endif()
    endforeach()
    get_target_property(libs ${t} LINK_LIBRARIES)
    foreach(lib ${libs})
      if(NOT TARGET ${lib})
        continue()
      endif()
      get_target_property(imported ${lib} IMPORTED)
      if(imported)
        continue()
      endif()
      get_target_property(libdir ${lib} SOURCE_DIR)
      rd_layer_of(liblayer ${libdir})
      if(liblayer AND NOT liblayer IN_LIST uses)
        message(FATAL_ERROR "layer fence: target ${t} (${layer}/) links "
          "${lib} (${liblayer}/); ${layer}/ may use only: ${uses_text} "
          "(cmake/Layers.cmake)")
      endif()
    endforeach()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    rd_check_layer_dir(${layer} ${sub})
  endforeach()
endfunction()

function(rd_check_layers)
  foreach(layer ${RD_LAYERS})
    if(EXISTS ${CMAKE_SOURCE_DIR}/${layer}/CMakeLists.txt)
      rd_check_layer_dir(${layer} ${CMAKE_SOURCE_DIR}/${layer})
    endif()
  endforeach()
endfunction()

# SPDX-License-Identifier: MPL-2.0
# EmbedFiles: turn the status page's files (replicator/ui/*) into a C
# source defining ui_assets[] (replicator/ui.h), so the replicator serves
# them from its binary with no file, network or CDN. index.html is served
# as /ui, every other file as /ui/<name>; the content type follows the
# extension (.html, .css, .js; anything else fails).
# Run in script mode (Embed.cmake beside it):
#   cmake -DUI_DIR=<dir> -DOUT=<file.c> -P EmbedFiles.cmake

include(${CMAKE_CURRENT_LIST_DIR}/Embed.cmake)
embed_require(EmbedFiles UI_DIR OUT)

embed_list(files ${UI_DIR} *)
set(arrays "")
set(table "")
set(count 0)
foreach(f ${files})
  if(f MATCHES "\\.html$")
    set(ctype "text/html; charset=utf-8")
  elseif(f MATCHES "\\.css$")
    set(ctype "text/css; charset=utf-8")
  elseif(f MATCHES "\\.js$")
    set(ctype "text/javascript; charset=utf-8")
  else()
    message(FATAL_ERROR "EmbedFiles: ${f}: unknown content type")
  endif()
  if(f STREQUAL "index.html")
    set(url "/ui")
  else()
    set(url "/ui/${f}")
  endif()
  file(READ ${UI_DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "static const unsigned char asset${count}[] = {\n    ${bytes}0};\n")
  string(APPEND table "    {\"${url}\", \"${ctype}\", asset${count}, ${len}},\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "EmbedFiles: no file in ${UI_DIR}")
endif()

embed_write(${OUT} EmbedFiles.cmake replicator/ui/ replicator/ui.h
            "${arrays}\n" ui_asset ui_assets "${table}" ${count})

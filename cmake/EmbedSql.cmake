# SPDX-License-Identifier: MPL-2.0
# EmbedSql: turn schema/NNNN_name.up.sql + NNNN_name.down.sql into a C
# source defining db_migrate_embedded[] (replicator/db/db_migrate.c), so the
# replicator carries its migrations instead of reading the source tree.
# Run in script mode (Embed.cmake beside it):
#   cmake -DSCHEMA_DIR=<dir> -DOUT=<file.c> -P EmbedSql.cmake
# Fails when a step lacks its up or down file or versions are not 1..N.

include(${CMAKE_CURRENT_LIST_DIR}/Embed.cmake)
embed_require(EmbedSql SCHEMA_DIR OUT)

embed_list(ups ${SCHEMA_DIR} *.up.sql)

function(c_literal var text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "?" "\\?" text "${text}")
  string(REPLACE "\t" "\\t" text "${text}")
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
  set(${var} "\"${text}\"" PARENT_SCOPE)
endfunction()

set(body "")
set(expect 1)
foreach(up ${ups})
  if(NOT up MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.up\\.sql$")
    message(FATAL_ERROR "EmbedSql: bad migration file name ${up}")
  endif()
  set(num "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  math(EXPR version "1${num} - 10000")
  if(NOT version EQUAL expect)
    message(FATAL_ERROR "EmbedSql: ${up}: expected version ${expect}")
  endif()
  set(down "${num}_${name}.down.sql")
  if(NOT EXISTS ${SCHEMA_DIR}/${down})
    message(FATAL_ERROR "EmbedSql: ${up} has no ${down}")
  endif()
  file(READ ${SCHEMA_DIR}/${up} up_text)
  file(READ ${SCHEMA_DIR}/${down} down_text)
  c_literal(up_lit "${up_text}")
  c_literal(down_lit "${down_text}")
  string(APPEND body "    {${version}, \"${name}\",\n    ${up_lit},\n    ${down_lit}},\n")
  math(EXPR expect "${expect} + 1")
endforeach()

embed_list(downs ${SCHEMA_DIR} *.down.sql)
foreach(down ${downs})
  string(REPLACE ".down.sql" ".up.sql" up "${down}")
  if(NOT EXISTS ${SCHEMA_DIR}/${up})
    message(FATAL_ERROR "EmbedSql: ${down} has no ${up}")
  endif()
endforeach()

math(EXPR count "${expect} - 1")
if(count EQUAL 0)
  set(body "    {0, \"\", \"\", \"\"},\n")
endif()
embed_write(${OUT} EmbedSql.cmake "the schema/ SQL files"
            replicator/db/db_internal.h "" db_migration db_migrate_embedded
            "${body}" ${count})

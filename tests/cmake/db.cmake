# SPDX-License-Identifier: MPL-2.0
# Tests of replicator/db (owner: db). Integration tests start a private
# PostgreSQL per binary through tests/support/pg.c (or use $RACKDEPOT_TEST_DB).
if(TARGET replicator_db)
  rd_unit_test(test_db_embed
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_db_embed.c LIBS replicator_db)
  foreach(t test_db_migrate test_db_repo test_db_access test_db_prune
          test_db_failover)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.c)
      rd_test(${t} LABELS integration
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.c
        LIBS replicator_db TIMEOUT 180)
    endif()
  endforeach()
  # the stuck report's clocks (uses replicator/task/stuck.c's tracker)
  if(TARGET replicator_core)
    rd_test(test_db_stuck LABELS integration
      SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_db_stuck.c
      LIBS replicator_core replicator_db TIMEOUT 180)
  endif()
endif()

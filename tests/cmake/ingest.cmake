# SPDX-License-Identifier: MPL-2.0
# Tests of the replicator ingest path (owner: ingest).
if(TARGET replicator AND TARGET rd_testsupport)
  rd_test(test_ingest LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_ingest.c
          LIBS replicator_db TIMEOUT 300)
  # pg.c (in rd_testsupport) needs pgembed from replicator_db: list it again last
  target_link_libraries(test_ingest PRIVATE replicator_db)
  add_dependencies(test_ingest replicator)
endif()

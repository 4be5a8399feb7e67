# SPDX-License-Identifier: MPL-2.0
# Tests of common/pieces (piece manifests, issue 13).
rd_unit_test(test_pieces SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pieces.c)
# Manifests over HTTP: the replicator's (computed at ingest) and the
# sledagent depot's (computed by the verified writer), against each other.
if(TARGET replicator AND TARGET sledagent AND TARGET tuf-mkrepo AND TARGET rd_testsupport)
  rd_test(test_pieces_serve LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pieces_serve.c
          LIBS replicator_db TIMEOUT 300)
  # pgtest.c (in rd_testsupport) needs replicator_db: list it again last
  target_link_libraries(test_pieces_serve PRIVATE replicator_db)
  add_dependencies(test_pieces_serve replicator sledagent tuf-mkrepo)
endif()
# The sledagent store's manifests (sledagent/store/piececache.c).
if(TARGET sledagent_store)
  rd_unit_test(test_piececache
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_piececache.c
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_store_fixture.c
               LIBS sledagent_store)
endif()

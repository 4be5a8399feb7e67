# SPDX-License-Identifier: MPL-2.0
# Tests of the replicator ingest path (owner: ingest): test_ingest (CLI
# end to end, exit codes, --json shapes) and test_ingest_repo (HTTP API:
# modes, conflicts, generations, concurrency, truncation, --break
# variants, caps, restart, schema).
if(TARGET replicator AND TARGET rd_testsupport)
  foreach(t test_ingest test_ingest_repo test_prune_api)
    rd_test(${t} LABELS integration
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.c
            LIBS replicator_db TIMEOUT 300)
    # pgtest.c (in rd_testsupport) needs replicator_db: list it again last
    target_link_libraries(${t} PRIVATE replicator_db)
    add_dependencies(${t} replicator)
    if(TARGET tuf-mkrepo)
      add_dependencies(${t} tuf-mkrepo)
    endif()
  endforeach()
endif()

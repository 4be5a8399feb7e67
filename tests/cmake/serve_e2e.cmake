# SPDX-License-Identifier: MPL-2.0
# End-to-end test of the wired `replicator serve` with self-registering
# sledagents and the CLI (tests/integration/test_serve_e2e.c).
if(TARGET replicator AND TARGET sledagent AND TARGET tuf-mkrepo AND TARGET rd_testsupport)
  rd_test(test_serve_e2e LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_serve_e2e.c
          TIMEOUT 300)
  add_dependencies(test_serve_e2e replicator sledagent tuf-mkrepo)
endif()

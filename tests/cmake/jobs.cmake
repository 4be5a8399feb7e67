# SPDX-License-Identifier: MPL-2.0
# Tests of replicator/jobs (the worker-job runner with per-worker database
# connections) against a private PostgreSQL (tests/support/pg.c).
if(TARGET replicator_core AND TARGET rd_testsupport)
  rd_test(test_jobs LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_jobs.c
          LIBS replicator_core replicator_db TIMEOUT 120)
endif()

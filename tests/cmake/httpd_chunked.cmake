# SPDX-License-Identifier: MPL-2.0
# Chunked request bodies (issue 12): the decoder of common/httpd_chunked.c
# and the sledagent and replicator taking chunked uploads.
rd_unit_test(test_httpd_chunked
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpd_chunked.c)
if(TARGET rd_testsupport)
  rd_agent_test(test_agent_chunked integration)
endif()
if(TARGET replicator AND TARGET tuf-mkrepo AND TARGET rd_testsupport)
  rd_test(test_serve_chunked LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_serve_chunked.c
          TIMEOUT 300)
  add_dependencies(test_serve_chunked replicator tuf-mkrepo)
endif()
# One chunked PUT over mutual TLS (tests/integration/tls_rig.c).
if(TARGET replicator_core AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_tls_chunked LABELS integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_tls_chunked.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core TIMEOUT 300)
  add_dependencies(test_tls_chunked sledagent)
endif()

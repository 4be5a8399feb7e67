# SPDX-License-Identifier: MPL-2.0
# The TLS clients (common/httpc_tls.c, the CLI flags, the copy-from-depot
# source rules): unit, integration and fuzz registrations.
rd_unit_test(test_copy_source
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_copy_source.c
             ${CMAKE_SOURCE_DIR}/sledagent/copy_source.c)
# And against a real agent (rd_agent_test: agent_blackbox.cmake, included
# before this fragment).
if(COMMAND rd_agent_test AND TARGET rd_testsupport)
  rd_agent_test(test_agent_copy_url integration)
endif()
# Mutual TLS of common/httpc (httpc_tls.c) against an in-process TLS 1.3
# server, with certificates from the rack PKI (replicator/pki.c).
if(TARGET replicator_core)
  rd_test(test_httpc_tls LABELS integration TIMEOUT 120
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpc_tls.c
          LIBS replicator_core sledagent_http)
endif()
# The CLI's TLS flags and environment (replicator/cli_tls.c, cli.c).
if(TARGET replicator_core)
  rd_unit_test(test_cli_tls
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cli_tls.c
               LIBS replicator_core)
endif()
# The copy-from-depot body parser (fuzz.cmake, included before this
# fragment, defines rd_fuzz).
if(COMMAND rd_fuzz)
  rd_fuzz(copy_source SOURCES ${CMAKE_SOURCE_DIR}/sledagent/copy_source.c)
endif()

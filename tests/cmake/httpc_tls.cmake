# SPDX-License-Identifier: MPL-2.0
# Mutual TLS of common/httpc (httpc_tls.c) against an in-process TLS 1.3
# server, with certificates from the rack PKI (replicator/pki.c).
if(TARGET replicator_core)
  rd_test(test_httpc_tls LABELS integration TIMEOUT 120
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpc_tls.c
          LIBS replicator_core sledagent_http)
endif()

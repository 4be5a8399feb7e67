# SPDX-License-Identifier: MPL-2.0
# The CLI's TLS flags and environment (replicator/cli_tls.c, cli.c).
if(TARGET replicator_core)
  rd_unit_test(test_cli_tls
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cli_tls.c
               LIBS replicator_core)
endif()

# SPDX-License-Identifier: MPL-2.0
# Tests of the sledagent HTTP layer and the shared HTTP pieces of common/
# (httpd, httpc). Owner: agenthttp.
rd_unit_test(test_range SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_range.c
             ${CMAKE_SOURCE_DIR}/sledagent/range.c)
rd_unit_test(test_httpd SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpd.c)
# httpc runs real transfers against an in-test server, including connect
# and stall timeouts: seconds, not milliseconds, so it is not in the fast
# unit label.
rd_test(test_httpc LABELS integration TIMEOUT 120
        SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpc.c)
# What a PUT body leaves of the link to the copies (issue 13).
if(TARGET sledagent_http)
  rd_unit_test(test_inbound
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_inbound.c
               LIBS sledagent_http rd_testsupport)
endif()

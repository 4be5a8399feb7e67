# SPDX-License-Identifier: MPL-2.0
# Tests of the sledagent HTTP layer and the shared HTTP pieces of common/
# (httpd, curlev). Owner: agenthttp.
rd_unit_test(test_range SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_range.c
             ${CMAKE_SOURCE_DIR}/sledagent/range.c)
rd_unit_test(test_httpd SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpd.c
             LIBS PkgConfig::LIBCURL)
# curlev runs real transfers against in-test servers, including a stall
# timeout: seconds, not milliseconds, so it is not in the fast unit label.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_curlev.c)
  rd_test(test_curlev LABELS integration TIMEOUT 120
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_curlev.c
          LIBS PkgConfig::LIBCURL)
endif()

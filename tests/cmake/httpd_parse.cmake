# SPDX-License-Identifier: MPL-2.0
# Tests of the request-head parser of common/httpd_parse.c (issue 8).
rd_unit_test(test_httpd_parse
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpd_parse.c)

# SPDX-License-Identifier: MPL-2.0
# Tests of the HTTP route tables: common/httpd_route (the matcher and the
# server's own 404/405/400/413 answers) and the services' tables against
# docs/API.md and docs/OPERATOR.md (and docs/openapi/).
if(TARGET rd_testsupport)
  rd_unit_test(test_httpd_route
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_httpd_route.c
               LIBS rd_testsupport)
endif()
if(TARGET sledagent_http AND TARGET replicator_core)
  rd_unit_test(test_route_docs
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_route_docs.c
               LIBS sledagent_http replicator_core)
endif()
# The same tables against the OpenAPI documents of docs/openapi/ (issue 15).
if(TARGET sledagent_http AND TARGET replicator_core)
  rd_unit_test(test_route_openapi
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_route_openapi.c
               LIBS sledagent_http replicator_core)
endif()

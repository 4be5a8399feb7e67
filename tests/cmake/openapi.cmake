# SPDX-License-Identifier: MPL-2.0
# The OpenAPI documents of docs/openapi/ against a real rack (issue 15 item
# 3): tests/openapi drives every operation of a rack-sim rack (mutual TLS)
# and validates each response with Debian's python3-jsonschema. Exit 77
# (skipped, never passed) when python3-jsonschema is missing. The route
# tables against the documents: test_route_openapi (httpd_route.cmake).
add_test(NAME test_openapi_live
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/openapi/test_openapi_live.py)
set_tests_properties(test_openapi_live PROPERTIES LABELS e2e TIMEOUT 180
  SKIP_RETURN_CODE 77
  ENVIRONMENT "RACKDEPOT_BIN_DIR=${CMAKE_BINARY_DIR}/bin;RACKDEPOT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")

# SPDX-License-Identifier: MPL-2.0
# Tests of common/pieces (piece manifests, issue 13).
rd_unit_test(test_pieces SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pieces.c)

# SPDX-License-Identifier: MPL-2.0
# Tests of the TUF verifier (common/tuf_*.c).
rd_unit_test(test_tuf_verify SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tuf_verify.c)
rd_unit_test(test_tuf_parts SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tuf_parts.c)

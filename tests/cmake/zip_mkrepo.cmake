# SPDX-License-Identifier: MPL-2.0
# Tests of common/zipread and sim/tuf-mkrepo.
rd_unit_test(test_zipread SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_zipread.c)

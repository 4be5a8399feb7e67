# SPDX-License-Identifier: MPL-2.0
# Tests of common/fsutil (atomic replace, directory fsync, mkdir -p, rm -rf,
# capped reads).
rd_unit_test(test_fsutil SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_fsutil.c)

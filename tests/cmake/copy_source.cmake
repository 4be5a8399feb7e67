# SPDX-License-Identifier: MPL-2.0
# The strict parse of a copy-from-depot body (sledagent/copy_source.c).
rd_unit_test(test_copy_source
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_copy_source.c
             ${CMAKE_SOURCE_DIR}/sledagent/copy_source.c)

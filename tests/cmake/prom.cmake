# SPDX-License-Identifier: MPL-2.0
# Tests of common/prom.c, the Prometheus text writer.
rd_unit_test(test_prom SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_prom.c)

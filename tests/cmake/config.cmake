# SPDX-License-Identifier: MPL-2.0
# Unit tests of `replicator serve` settings (replicator/config.c).
rd_unit_test(test_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_config.c
             ${CMAKE_SOURCE_DIR}/replicator/config.c)

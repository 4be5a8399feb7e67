# Tests of common/.
rd_unit_test(test_common SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_common.c)
rd_unit_test(test_artifact_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_artifact_config.c)

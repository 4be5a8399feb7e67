# SPDX-License-Identifier: MPL-2.0
# Tests of sledagent/store (the storage layer) and common/workq: label
# "unit", fast. Store tests share tests/unit/test_store_fixture.c.
if(TARGET sledagent_store)
  foreach(t test_workq test_ledger test_store test_writer test_writer_pieces
           test_scrub)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c)
      rd_unit_test(${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c
                   ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_store_fixture.c
                   LIBS sledagent_store)
    endif()
  endforeach()
endif()

# SPDX-License-Identifier: MPL-2.0
# The strict parse of a copy-from-depot body (sledagent/copy_source.c).
rd_unit_test(test_copy_source
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_copy_source.c
             ${CMAKE_SOURCE_DIR}/sledagent/copy_source.c)
# And against a real agent (rd_agent_test: agent_blackbox.cmake, included
# before this fragment).
if(COMMAND rd_agent_test AND TARGET rd_testsupport)
  rd_agent_test(test_agent_copy_url integration)
endif()

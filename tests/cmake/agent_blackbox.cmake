# SPDX-License-Identifier: MPL-2.0
# Black-box integration and fault tests of the sledagent binary (DESIGN.md
# sections 2, 3, 8, 9). They spawn <build>/bin/sledagent, so they are only
# registered once that target exists.

set(RD_AGENT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

function(rd_agent_test name label)
  rd_test(${name} LABELS "${label}" TIMEOUT 600
          SOURCES ${RD_AGENT_TEST_DIR}/${label}/${name}.c)
  if(TARGET sledagent)
    add_dependencies(${name} sledagent)
  endif()
endfunction()

if(TARGET rd_testsupport)
  rd_agent_test(test_agent_config integration)
  foreach(t test_agent_put test_agent_depot test_agent_lifecycle
            test_agent_http test_agent_copyspace test_agent_register
            test_agent_ratelimit test_agent_trash test_agent_swarm
            test_agent_override)
    if(EXISTS ${RD_AGENT_TEST_DIR}/integration/${t}.c)
      rd_agent_test(${t} integration)
    endif()
  endforeach()
  foreach(t test_agent_crash test_agent_dataset test_agent_startup
            test_agent_stall test_agent_storeleaks test_agent_copylimits)
    if(EXISTS ${RD_AGENT_TEST_DIR}/fault/${t}.c)
      rd_agent_test(${t} fault)
    endif()
  endforeach()
endif()

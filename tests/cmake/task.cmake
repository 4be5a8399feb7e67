# SPDX-License-Identifier: MPL-2.0
# Tests of the reconciliation task (owner: task): unit tests of its pure
# parts, the test harness binary (the task API on its own loop, as serve
# wires it) and the integration tests against real sledagents and
# PostgreSQL.
if(TARGET replicator_core)
  rd_unit_test(test_task_status SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_task_status.c
               LIBS replicator_core)
  rd_unit_test(test_execute_upload SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_execute_upload.c
               LIBS replicator_core)
  if(TARGET rd_testsupport)
    add_executable(task_harness ${CMAKE_CURRENT_SOURCE_DIR}/integration/task_harness.c)
    target_link_libraries(task_harness PRIVATE replicator_core rackdepot_common)
    set_target_properties(task_harness PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
    rd_test(test_replication LABELS integration
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 400)
    target_link_libraries(test_replication PRIVATE replicator_db)
    add_dependencies(test_replication task_harness)
    rd_test(test_replication_fake LABELS integration
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_fake.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 300)
    add_dependencies(test_replication_fake task_harness)
    # issue 12 item 6: a held sled is left alone, reported, resumed
    rd_test(test_replication_hold LABELS integration
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_hold.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 240)
    target_link_libraries(test_replication_hold PRIVATE replicator_db)
    add_dependencies(test_replication_hold task_harness)
    rd_test(test_replication_stall LABELS integration
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_stall.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 180)
    target_link_libraries(test_replication_stall PRIVATE replicator_db)
    add_dependencies(test_replication_stall task_harness)
    rd_test(test_task_killed LABELS fault
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_task_killed.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 180)
    target_link_libraries(test_task_killed PRIVATE replicator_db)
    add_dependencies(test_task_killed task_harness)
    # Fault tests of the task (label fault): the rig with a fault injected.
    rd_test(test_task_generation LABELS fault
            SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_task_generation.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
            LIBS replicator_core replicator_db TIMEOUT 300)
    target_link_libraries(test_task_generation PRIVATE replicator_db)
    add_dependencies(test_task_generation task_harness)
    if(TARGET sledagent)
      add_dependencies(test_replication sledagent)
      add_dependencies(test_task_generation sledagent)
      add_dependencies(test_replication_stall sledagent)
      add_dependencies(test_replication_hold sledagent)
      add_dependencies(test_task_killed sledagent)
    endif()
  endif()
endif()
# Issue 9: the sled registry (validation, cap, address damping, a bad row).
if(TARGET replicator_core AND TARGET rd_testsupport)
  rd_test(test_registry LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_registry.c
                  ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_replication_rig.c
          LIBS replicator_core replicator_db TIMEOUT 240)
  target_link_libraries(test_registry PRIVATE replicator_db)
  add_dependencies(test_registry task_harness)
  if(TARGET sledagent)
    add_dependencies(test_registry sledagent)
  endif()
endif()
# the swarm copies' candidate offsets (issue 13, docs/PERFORMANCE.md 8.2)
rd_unit_test(test_swarm_ring SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_swarm_ring.c
             ${CMAKE_SOURCE_DIR}/replicator/task/swarm_ring.c)

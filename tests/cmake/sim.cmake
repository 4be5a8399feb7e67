# SPDX-License-Identifier: MPL-2.0
# Tests of rack-sim (owner: sim): test_rack_sim (integration: the
# simulator's own mechanics through the real binary) and the e2e scenarios
# of tests/e2e/ (label e2e: a whole rack converging).
if(TARGET rack-sim AND TARGET rd_testsupport)
  rd_test(test_rack_sim LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_rack_sim.c
          LIBS replicator_db TIMEOUT 300)
  target_link_libraries(test_rack_sim PRIVATE replicator_db)
  add_dependencies(test_rack_sim rack-sim)
  file(GLOB RD_E2E_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/*.c)
  foreach(src ${RD_E2E_SOURCES})
    get_filename_component(t ${src} NAME_WE)
    rd_test(${t} LABELS e2e SOURCES ${src} LIBS rd_racksim replicator_db
            TIMEOUT 600)
    target_link_libraries(${t} PRIVATE replicator_db)
    add_dependencies(${t} rack-sim)
  endforeach()
endif()

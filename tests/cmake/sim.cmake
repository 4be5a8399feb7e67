# SPDX-License-Identifier: MPL-2.0
# Tests of rack-sim (owner: sim): test_rack_sim (integration: the
# simulator's own mechanics through the real binary) and the e2e scenarios
# of tests/e2e/ (label e2e: a whole rack converging).
if(TARGET rack-sim AND TARGET rd_testsupport)
  rd_test(test_rack_sim LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_rack_sim.c
          LIBS rd_racksim replicator_db TIMEOUT 300)
  target_link_libraries(test_rack_sim PRIVATE replicator_db)
  add_dependencies(test_rack_sim rack-sim)
  file(GLOB RD_E2E_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/e2e/*.c)
  # Only test_e2e_*.c are tests; e2e_util.c, e2e_http.c and e2e_dbha.c
  # are the scenarios' shared harness, attacks_*.c part of test_e2e_attacks.
  list(FILTER RD_E2E_SOURCES INCLUDE REGEX "/test_e2e_[^/]*\\.c$")
  # Netns racks (rack-sim --net netns, issue 14) need root: their scenario
  # and the netns runs below are registered only when the build is
  # configured as root (CI is).
  execute_process(COMMAND id -u OUTPUT_VARIABLE RD_UID
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT RD_UID STREQUAL "0")
    list(FILTER RD_E2E_SOURCES EXCLUDE REGEX "/test_e2e_netns[^/]*\\.c$")
  endif()
  add_library(rd_e2eutil STATIC ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_util.c
              ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_http.c
              ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_dbha.c)
  target_link_libraries(rd_e2eutil PUBLIC rd_testsupport rd_racksim
                        replicator_db rackdepot_common PkgConfig::CMOCKA)
  foreach(src ${RD_E2E_SOURCES})
    get_filename_component(t ${src} NAME_WE)
    rd_test(${t} LABELS e2e SOURCES ${src} LIBS rd_racksim replicator_db
            TIMEOUT 600)
    target_link_libraries(${t} PRIVATE replicator_db)
    target_link_libraries(${t} PRIVATE rd_e2eutil)
    add_dependencies(${t} rack-sim)
    add_dependencies(${t} sledagent replicator tuf-mkrepo)
  endforeach()
  # The scenarios run in rack-sim's default mode (mutual TLS) unless
  # RD_E2E_MODE says otherwise. One scenario runs on plaintext as well,
  # the mode of the reference system's clients.
  if(TEST test_e2e_fresh_rack)
    add_test(NAME test_e2e_fresh_rack_plaintext COMMAND test_e2e_fresh_rack)
    get_test_property(test_e2e_fresh_rack ENVIRONMENT rd_e2e_env)
    set_tests_properties(test_e2e_fresh_rack_plaintext PROPERTIES LABELS e2e
      TIMEOUT 600 ENVIRONMENT "${rd_e2e_env};RD_E2E_MODE=plaintext")
  endif()
  # Scenarios that involve the network run on a netns rack as well (in the
  # plain build: the network is the kernel's, the code the same as above,
  # which the sanitizer build runs; keeps CI's time down).
  if(RD_UID STREQUAL "0" AND NOT SANITIZE)
    foreach(t test_e2e_sled_partition test_e2e_sled_stop test_e2e_sleds_added
              test_e2e_two_replicators test_e2e_disk_full test_e2e_db_restore)
      if(TEST ${t})
        add_test(NAME ${t}_netns COMMAND ${t})
        get_test_property(${t} ENVIRONMENT rd_e2e_env)
        set_tests_properties(${t}_netns PROPERTIES LABELS e2e TIMEOUT 600
          ENVIRONMENT "${rd_e2e_env};RD_E2E_NET=netns")
      endif()
    endforeach()
  endif()
endif()
# The attack scenario (issue 9) is about mutual TLS: it forces RD_E2E_MODE
# to tls itself, and uses the TLS listener tests' OpenSSL client and the
# PKI library (another CA of the same rack id). Its rig and attacks are
# in e2e/attacks_rig.c and e2e/attacks_routes.c.
if(TEST test_e2e_attacks)
  target_sources(test_e2e_attacks PRIVATE
                 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/attacks_rig.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/attacks_routes.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c)
  target_link_libraries(test_e2e_attacks PRIVATE replicator_core)
  set_property(TEST test_e2e_attacks APPEND PROPERTY ENVIRONMENT
               RD_E2E_MODE=tls)
endif()

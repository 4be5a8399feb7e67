# SPDX-License-Identifier: MPL-2.0
# Tests of the binaries' shared command-line surface (tests/cli/).
if(TARGET sledagent AND TARGET replicator AND TARGET rack-sim AND TARGET tuf-mkrepo)
  add_test(NAME test_version
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_version.sh
                   ${CMAKE_BINARY_DIR}/bin ${PROJECT_VERSION})
  set_tests_properties(test_version PROPERTIES LABELS unit TIMEOUT 60)
endif()

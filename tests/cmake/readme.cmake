# SPDX-License-Identifier: MPL-2.0
# The README's newcomer path, run verbatim (tests/readme/): "A rack by
# hand" on its own directory and free ports, so it runs beside the others.
if(TARGET sledagent AND TARGET replicator AND TARGET tuf-mkrepo)
  add_test(NAME test_readme_by_hand
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readme/by_hand.sh
                   ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(test_readme_by_hand PROPERTIES LABELS e2e TIMEOUT 180
    SKIP_RETURN_CODE 77)
endif()

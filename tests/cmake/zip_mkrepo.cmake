# SPDX-License-Identifier: MPL-2.0
# Tests of common/zipread and sim/tuf-mkrepo.
rd_unit_test(test_zipread SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_zipread.c)
rd_test(test_mkrepo LABELS integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_mkrepo.c
  LIBS OpenSSL::Crypto TIMEOUT 300)
if(TARGET tuf-mkrepo)
  add_dependencies(test_mkrepo tuf-mkrepo)
endif()
# Round trip through the TUF verifier (common/tuf_*) over zipread.
rd_test(test_mkrepo_verify LABELS integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_mkrepo_verify.c
  TIMEOUT 300)
if(TARGET tuf-mkrepo)
  add_dependencies(test_mkrepo_verify tuf-mkrepo)
endif()

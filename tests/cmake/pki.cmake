# SPDX-License-Identifier: MPL-2.0
# Tests of the rack PKI (replicator/pki*.c, cli_pki.c, db/tlsrev_db.c) and
# of common/tls*.c, whose fixtures are certificates issued by the PKI.
if(TARGET replicator_core)
  foreach(t test_tls test_pki)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c)
      rd_unit_test(${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c
                   LIBS replicator_core)
    endif()
  endforeach()
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pki_cli.c)
    rd_test(test_pki_cli LABELS integration
      SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pki_cli.c
      LIBS replicator_core TIMEOUT 180)
  endif()
endif()
# The peer-facing parsers of common/tls_peer.c (fuzz.cmake, included
# before this fragment, defines rd_fuzz).
if(COMMAND rd_fuzz)
  rd_fuzz(tls_peer)
endif()
# Mutual TLS on the sledagent's listeners: real binary, certificates made
# with the PKI library (tests/integration/tls_rig.c).
if(TARGET replicator_core AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_tls_agent LABELS integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_tls_agent.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core TIMEOUT 300)
  add_dependencies(test_tls_agent sledagent)
endif()
# Mutual TLS on `replicator serve` (PostgreSQL through pgtest).
if(TARGET replicator AND TARGET replicator_db AND TARGET rd_testsupport)
  rd_test(test_tls_serve LABELS integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_tls_serve.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core replicator_db TIMEOUT 300)
  target_link_libraries(test_tls_serve PRIVATE replicator_db)
  add_dependencies(test_tls_serve replicator)
endif()
# The revocation list a controller pushes to sleds (PUT/GET
# /tls-revocations): two real TLS sledagents.
if(TARGET replicator_core AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_tls_revocations LABELS integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_tls_revocations.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core TIMEOUT 300)
  add_dependencies(test_tls_revocations sledagent)
endif()
# The reconciliation task pushing the database's revocations to sleds:
# `replicator serve` on TLS (PostgreSQL through pgtest), two TLS sledagents.
if(TARGET replicator AND TARGET replicator_db AND TARGET sledagent AND
   TARGET rd_testsupport)
  rd_test(test_tls_revpush LABELS integration
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_tls_revpush.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core replicator_db TIMEOUT 300)
  target_link_libraries(test_tls_revpush PRIVATE replicator_db)
  add_dependencies(test_tls_revpush replicator sledagent)
endif()
# The PUT /tls-revocations body parser of the sledagent (sledagent/
# revstate.c; fuzz.cmake, included before this fragment, defines rd_fuzz).
if(COMMAND rd_fuzz)
  rd_fuzz(tls_revocations SOURCES ${CMAKE_SOURCE_DIR}/sledagent/revstate.c)
endif()
# Issue 10: hostile clients (idle floods, slow heads and bodies) against
# the sledagent, plaintext and mutual TLS.
if(TARGET replicator_core AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_agent_limits LABELS fault
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_agent_limits.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core TIMEOUT 300)
  add_dependencies(test_agent_limits sledagent)
  # A depot file truncated mid-send over TLS (issue 10 deliver 4).
  rd_test(test_agent_tls_truncate LABELS fault
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_agent_tls_truncate.c
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/tls_rig.c
    LIBS replicator_core TIMEOUT 300)
  add_dependencies(test_agent_tls_truncate sledagent)
endif()

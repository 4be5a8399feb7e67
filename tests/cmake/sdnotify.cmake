# SPDX-License-Identifier: MPL-2.0
# The daemons' sd_notify messages to a fake NOTIFY_SOCKET
# (tests/integration/test_sdnotify.c). Built without libsystemd the
# notifications are no-ops by design, and the test reports a skip.
if(TARGET replicator AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_sdnotify LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_sdnotify.c
          TIMEOUT 300)
  add_dependencies(test_sdnotify replicator sledagent)
  if(NOT LIBSYSTEMD_FOUND)
    target_compile_definitions(test_sdnotify PRIVATE RD_NO_LIBSYSTEMD=1)
  endif()
endif()

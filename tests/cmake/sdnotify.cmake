# SPDX-License-Identifier: MPL-2.0
# The daemons' sd_notify messages to a fake NOTIFY_SOCKET
# (tests/integration/test_sdnotify.c); only where libsystemd was found,
# since without it the notifications are no-ops by design.
if(LIBSYSTEMD_FOUND AND TARGET replicator AND TARGET sledagent AND TARGET rd_testsupport)
  rd_test(test_sdnotify LABELS integration
          SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_sdnotify.c
          TIMEOUT 300)
  add_dependencies(test_sdnotify replicator sledagent)
endif()

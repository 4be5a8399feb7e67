# SPDX-License-Identifier: MPL-2.0
# Install rules and Debian packages (issue 15 item 4; docs/OPERATOR.md
# "Packages and services"). `cmake --build build --target package` makes
# three .debs with CPack DEB, dependencies from dpkg-shlibdeps:
#   rackdepot-sledagent   /usr/bin/sledagent, its unit, /etc/rackdepot/sledagent.conf
#   rackdepot-replicator  /usr/bin/replicator, its unit, /etc/rackdepot/replicator.json
#   rackdepot-tools       /usr/bin/rack-sim, /usr/bin/tuf-mkrepo
# All binaries go to /usr/bin: replicator is the operator's CLI as well as
# the daemon, and rack-sim runs the sledagent and replicator found beside
# itself. Man pages come from help2man run on the built binaries (skipped,
# with a note, where help2man is missing or the build is sanitized).
# Packaging files live in packaging/ (units, config, sysusers.d,
# tmpfiles.d, maintainer scripts, man/*.h2m: extra man page sections).

set(RD_PKG_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(RD_PKG_OUT ${CMAKE_BINARY_DIR}/packaging)
set(RD_UNIT_DIR /lib/systemd/system) # Debian 12 (bookworm) policy

# One manual page per binary: NAME|component|one-line description.
set(RD_MAN_PAGES
  "sledagent|sledagent|sled agent: artifact datasets and depot"
  "replicator|replicator|rackdepot controller: repository API, replication task and CLI"
  "rack-sim|tools|simulated rackdepot rack of sled agents and a replicator"
  "tuf-mkrepo|tools|build signed TUF repository zips for rackdepot")

find_program(HELP2MAN help2man)
find_program(GZIP gzip)
set(rd_man_outputs "")
foreach(entry ${RD_MAN_PAGES})
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 bin)
  list(GET fields 1 comp)
  list(GET fields 2 what)
  if(NOT TARGET ${bin})
    continue()
  endif()
  install(TARGETS ${bin} RUNTIME DESTINATION bin COMPONENT ${comp})
  if(HELP2MAN AND GZIP AND NOT SANITIZE)
    set(man ${RD_PKG_OUT}/man/${bin}.1)
    # packaging/man/BIN.h2m: extra sections (FILES, SEE ALSO), if any.
    set(h2m ${RD_PKG_DIR}/man/${bin}.h2m)
    set(include_args "")
    set(h2m_dep "")
    if(EXISTS ${h2m})
      set(include_args --include ${h2m})
      set(h2m_dep ${h2m})
    endif()
    add_custom_command(OUTPUT ${man}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${RD_PKG_OUT}/man
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section 1
              --name "${what}" ${include_args} --output ${man}
              $<TARGET_FILE:${bin}>
      COMMAND ${GZIP} -9nf ${man}
      DEPENDS ${bin} ${h2m_dep}
      COMMENT "help2man ${bin}")
    list(APPEND rd_man_outputs ${man}.gz)
    install(FILES ${man}.gz DESTINATION share/man/man1 COMPONENT ${comp})
  endif()
endforeach()
if(rd_man_outputs)
  add_custom_target(manpages ALL DEPENDS ${rd_man_outputs})
elseif(NOT SANITIZE)
  message(STATUS "help2man not found (Debian: help2man): packages without "
                 "man pages")
endif()

# The two services: unit, config file (conffile), sysusers.d and
# tmpfiles.d entries, maintainer scripts.
foreach(svc sledagent replicator)
  if(NOT TARGET ${svc})
    continue()
  endif()
  if(svc STREQUAL sledagent)
    set(RD_CONFFILE /etc/rackdepot/sledagent.conf)
  else()
    set(RD_CONFFILE /etc/rackdepot/replicator.json)
  endif()
  set(RD_SERVICE ${svc})
  set(ctl ${RD_PKG_OUT}/${svc})
  foreach(script postinst prerm postrm conffiles)
    configure_file(${RD_PKG_DIR}/debian/${script}.in ${ctl}/${script} @ONLY
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  file(CHMOD ${ctl}/conffiles PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
       WORLD_READ)
  string(TOUPPER ${svc} SVC)
  set(CPACK_DEBIAN_${SVC}_PACKAGE_CONTROL_EXTRA
      ${ctl}/conffiles ${ctl}/postinst ${ctl}/prerm ${ctl}/postrm)
  install(FILES ${RD_PKG_DIR}/systemd/rackdepot-${svc}.service
          DESTINATION ${RD_UNIT_DIR} COMPONENT ${svc})
  get_filename_component(conf_name ${RD_CONFFILE} NAME)
  install(FILES ${RD_PKG_DIR}/etc/${conf_name} DESTINATION /etc/rackdepot
          COMPONENT ${svc})
  install(FILES ${RD_PKG_DIR}/sysusers/rackdepot.conf
          DESTINATION lib/sysusers.d RENAME rackdepot-${svc}.conf
          COMPONENT ${svc})
  install(FILES ${RD_PKG_DIR}/tmpfiles/rackdepot-${svc}.conf
          DESTINATION lib/tmpfiles.d COMPONENT ${svc})
endforeach()

if(NOT LIBSYSTEMD_FOUND)
  message(WARNING "packages built without libsystemd: their Type=notify "
                  "units would time out at start")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rackdepot)
set(CPACK_PACKAGE_VENDOR rackdepot)
set(CPACK_PACKAGE_CONTACT "rackdepot maintainers <rackdepot@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "rackdepot: TUF artifact replication for a rack")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL sledagent replicator tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The maintainer scripts call systemd-sysusers and systemd-tmpfiles.
set(CPACK_DEBIAN_SLEDAGENT_PACKAGE_NAME rackdepot-sledagent)
set(CPACK_DEBIAN_SLEDAGENT_PACKAGE_DEPENDS systemd)
set(CPACK_DEBIAN_REPLICATOR_PACKAGE_NAME rackdepot-replicator)
set(CPACK_DEBIAN_REPLICATOR_PACKAGE_DEPENDS systemd)
set(CPACK_DEBIAN_REPLICATOR_PACKAGE_RECOMMENDS postgresql)
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME rackdepot-tools)
# rack-sim starts a private PostgreSQL (initdb) and the two daemons.
set(CPACK_DEBIAN_TOOLS_PACKAGE_RECOMMENDS postgresql)
set(CPACK_COMPONENT_SLEDAGENT_DESCRIPTION
    "rackdepot sled agent: stores TUF artifacts on two datasets and serves them to peers")
set(CPACK_COMPONENT_REPLICATOR_DESCRIPTION
    "rackdepot replicator: repository upload API, replication task and operator CLI")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "rackdepot tools: rack-sim (a simulated rack) and tuf-mkrepo (test repositories)")
# rack-sim runs the two daemons from its own directory.
set(CPACK_COMPONENT_TOOLS_DEPENDS sledagent replicator)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
include(CPack)

# Deployment: systemd integration of the daemons, `cmake --install` to the FHS places and a Debian package
# (cpack -G DEB). Included once from the root CMakeLists.txt after the binaries' targets exist.
#   cmake --build build && cmake --install build     /usr/bin, /lib/systemd/system, /etc/chatbus, /usr/share/doc/chatbus
#   cmake --build build && (cd build && cpack -G DEB)  build/chatbus_<version>_<arch>.deb
# See docs/deploy.md.

# Install to /usr unless told otherwise, like a distribution package, so the units' paths are right as they are.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)  # with prefix /usr: SYSCONFDIR is /etc
set(CHATBUS_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/chatbus)
set(CHATBUS_SYSTEMD_UNITDIR /lib/systemd/system CACHE PATH "Where systemd system units are installed")

# Installing and packaging never compile: build first. So `cpack` ships exactly the binaries the tests ran,
# and tests/integration/test_systemd.py does not rebuild the tree.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# --- install -----------------------------------------------------------------------------------------------
install(TARGETS chatbus-broker chatbus-worker chatbus-gateway chatctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

foreach(unit chatbus-broker.service chatbus-worker@.service chatbus-gateway.service chatbus.target)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/${unit}.in ${CMAKE_BINARY_DIR}/deploy/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/deploy/${unit} DESTINATION ${CHATBUS_SYSTEMD_UNITDIR})
endforeach()

set(CHATBUS_CONFIGS broker.conf worker.conf gateway.conf)
list(TRANSFORM CHATBUS_CONFIGS PREPEND ${PROJECT_SOURCE_DIR}/deploy/ OUTPUT_VARIABLE chatbus_config_paths)
install(FILES ${chatbus_config_paths} DESTINATION ${CHATBUS_CONFDIR})

install(FILES
  ${PROJECT_SOURCE_DIR}/README.md
  ${PROJECT_SOURCE_DIR}/docs/architecture.md
  ${PROJECT_SOURCE_DIR}/docs/chatctl.md
  ${PROJECT_SOURCE_DIR}/docs/deploy.md
  ${PROJECT_SOURCE_DIR}/docs/mqtt.md
  ${PROJECT_SOURCE_DIR}/docs/protocol.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- Debian package ----------------------------------------------------------------------------------------
# The config files are conffiles: dpkg keeps the admin's edits on upgrade and removal (until purge).
list(TRANSFORM CHATBUS_CONFIGS PREPEND ${CHATBUS_CONFDIR}/ OUTPUT_VARIABLE chatbus_conffiles)
list(JOIN chatbus_conffiles "\n" chatbus_conffiles)
file(WRITE ${CMAKE_BINARY_DIR}/deploy/debian/conffiles "${chatbus_conffiles}\n")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/${script} ${CMAKE_BINARY_DIR}/deploy/debian/${script} COPYONLY)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chatbus)
set(CPACK_PACKAGE_VENDOR "chatbus developers")
set(CPACK_PACKAGE_CONTACT "chatbus developers <chatbus@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed chat system on ZeroMQ: broker, workers, MQTT gateway and chatctl")
set(CPACK_PACKAGE_DESCRIPTION
  "chatbus-broker owns nicknames and routes requests, chatbus-worker instances run the rooms,
chatbus-gateway lets MQTT 3.1.1 clients chat, chatctl is a scriptable command line. Ships systemd units
(chatbus-broker.service, chatbus-worker@.service, chatbus-gateway.service, chatbus.target) and commented
configuration in /etc/chatbus; installing starts nothing.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the binaries' ELF needs, as Debian's own packages get them (libzmq5, libspdlog1.10, libfmt9,
# libsodium23, libstdc++6, libc6), plus procps for the units' ExecReload=/bin/kill; systemd
# itself is only recommended (chatctl works without it).
# dpkg-shlibdeps (dpkg-dev) and file(1) are needed for that; without them the same list, written out.
find_program(CHATBUS_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(CHATBUS_FILE_PROGRAM file)
if(CHATBUS_DPKG_SHLIBDEPS AND CHATBUS_FILE_PROGRAM)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS procps)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libfmt9, libgcc-s1, libsodium23, libspdlog1.10, libstdc++6, libzmq5, procps")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS systemd)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/deploy/debian/conffiles
  ${CMAKE_BINARY_DIR}/deploy/debian/postinst
  ${CMAKE_BINARY_DIR}/deploy/debian/prerm
  ${CMAKE_BINARY_DIR}/deploy/debian/postrm)
include(CPack)

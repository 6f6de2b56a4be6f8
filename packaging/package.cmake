# The Debian package: `cmake --build build --target package` writes build/pwrudump_<ver>_<arch>.deb
# (CPack, DEB generator). Included from the top-level CMakeLists.txt after every install rule.
#
# What it adds to `cmake --install`: the man page, a link on PATH, the Debian copyright and
# changelog. What only the package has: a postinst that grants the capabilities
# (docs/privileges.md), and Depends pinned to the Wireshark major.minor the plugin was built
# against, with package names read from dpkg at configure time.
#
# A package is for the Debian release it is built on: the plugin loads only into that release's
# Wireshark, and the libraries' names differ (libwireshark16 in Debian 12, libwireshark18 in 13).
# Its version says which: pwrudump_0.1.0+deb12_amd64.deb, +deb13 (docs/testing-distros.md).

set(PWRU_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PWRU_PKG_BUILD ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${PWRU_PKG_BUILD})

include(${PWRU_PKG_DIR}/capabilities.cmake)
set(PWRU_PKG_PROGRAM "${Wireshark_EXTCAP_INSTALL_DIR}/pwrudump")
set(PWRU_PKG_CONTACT "pwrudump maintainers <maintainers@users.noreply.r-seed-b72b2b30.example>")
find_program(GZIP gzip REQUIRED)
find_program(DPKG_QUERY dpkg-query)

# --- the release built on: "deb12" on Debian 12 (os-release), the package version's suffix ---
# "+" as in Debian's own stable updates (4.0.17-0+deb12u1): the version stays above the
# project's, so the changelog's versions rise.
set(PWRU_PKG_RELEASE "")
if(DPKG_QUERY AND EXISTS /etc/os-release)
  file(STRINGS /etc/os-release _os REGEX "^(ID|VERSION_ID|VERSION_CODENAME|PRETTY_NAME)=")
  foreach(_line IN LISTS _os)
    string(REGEX MATCH "^([A-Z_]+)=\"?([^\"]*)\"?$" _ "${_line}")
    set(_os_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endforeach()
  set(PWRU_PKG_RELEASE "${_os_ID}")
  if(_os_ID STREQUAL "debian")
    set(PWRU_PKG_RELEASE "deb")
  endif()
  # Debian testing and sid have no VERSION_ID: the codename of the next release names them.
  if(_os_VERSION_ID)
    string(APPEND PWRU_PKG_RELEASE "${_os_VERSION_ID}")
  else()
    string(APPEND PWRU_PKG_RELEASE "${_os_VERSION_CODENAME}")
  endif()
  string(REGEX REPLACE "[^a-z0-9.]" "" PWRU_PKG_RELEASE "${PWRU_PKG_RELEASE}")
  set(PWRU_PKG_CODENAME "${_os_VERSION_CODENAME}")  # tests/package installs into a root of it
endif()
set(PWRU_PKG_VERSION ${PROJECT_VERSION})
if(PWRU_PKG_RELEASE)
  string(APPEND PWRU_PKG_VERSION "+${PWRU_PKG_RELEASE}")
endif()

# --- Debian changelog and copyright, in the doc folder ---
# A native package: packaging/debian/changelog, installed as changelog.gz. Its top entry must be
# the project's version; its date is the man page's (SOURCE_DATE_EPOCH), so rebuilds are equal.
# Built on a release, an entry for the package's version (+deb12) goes on top, as a rebuild's
# does, dated a second after the entry it rebuilds: the dates must rise (lintian), and stay fixed.
file(STRINGS ${PWRU_PKG_DIR}/debian/changelog _top LIMIT_COUNT 1)
if(NOT _top MATCHES "^pwrudump \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog must start with an entry for pwrudump "
                      "(${PROJECT_VERSION}), the project's version; it starts: ${_top}")
endif()
file(STRINGS ${PWRU_PKG_DIR}/debian/changelog _trailer REGEX "^ -- .*>  " LIMIT_COUNT 1)
string(REGEX REPLACE "^ -- .*>  " "" _date "${_trailer}")
execute_process(COMMAND date -d "${_date}" +%s OUTPUT_VARIABLE _changelog_epoch
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
set(_release_entry ${PWRU_PKG_BUILD}/changelog.release)
if(PWRU_PKG_RELEASE)
  set(_built_with "Wireshark ${Wireshark_VERSION_MAJOR}.${Wireshark_VERSION_MINOR}")
  if(LIBBPF_VERSION)
    string(APPEND _built_with ", libbpf ${LIBBPF_VERSION}")
  endif()
  math(EXPR _rebuild_epoch "${_changelog_epoch} + 1")
  execute_process(COMMAND date -u -R -d @${_rebuild_epoch} OUTPUT_VARIABLE _rebuild_date
                  OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  file(WRITE ${_release_entry}.new
"pwrudump (${PWRU_PKG_VERSION}) ${PWRU_PKG_CODENAME}; urgency=medium

  * Built for ${_os_PRETTY_NAME}: ${_built_with}.

 -- ${PWRU_PKG_CONTACT}  ${_rebuild_date}

")
else()
  file(WRITE ${_release_entry}.new "")
endif()
configure_file(${_release_entry}.new ${_release_entry} COPYONLY)  # written only when it changes
add_custom_command(
  OUTPUT ${PWRU_PKG_BUILD}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E cat ${_release_entry} ${PWRU_PKG_DIR}/debian/changelog
          | ${GZIP} -9nc > ${PWRU_PKG_BUILD}/changelog.gz
  DEPENDS ${_release_entry} ${PWRU_PKG_DIR}/debian/changelog)
add_custom_target(pwrudump_changelog ALL DEPENDS ${PWRU_PKG_BUILD}/changelog.gz)
install(FILES ${PWRU_PKG_DIR}/debian/copyright ${PWRU_PKG_BUILD}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Tags accepted with their reasons; lintian reads them from the installed package.
install(FILES ${PWRU_PKG_DIR}/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME pwrudump)

# --- man page pwrudump(1): --help through help2man, plus packaging/pwrudump.h2m.in ---
configure_file(${PWRU_PKG_DIR}/pwrudump.h2m.in ${PWRU_PKG_BUILD}/pwrudump.h2m @ONLY)
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(
    OUTPUT ${PWRU_PKG_BUILD}/pwrudump.1.gz
    COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${_changelog_epoch} ${HELP2MAN}
            --no-info --section 1 --include ${PWRU_PKG_BUILD}/pwrudump.h2m
            --output ${PWRU_PKG_BUILD}/pwrudump.1 $<TARGET_FILE:pwrudump>
    COMMAND ${GZIP} -9nf ${PWRU_PKG_BUILD}/pwrudump.1
    DEPENDS pwrudump ${PWRU_PKG_BUILD}/pwrudump.h2m
    COMMENT "Generating the man page pwrudump(1) from pwrudump --help")
  add_custom_target(pwrudump_man ALL DEPENDS ${PWRU_PKG_BUILD}/pwrudump.1.gz)
  install(FILES ${PWRU_PKG_BUILD}/pwrudump.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no man page pwrudump(1), and the Debian package test "
                  "fails (run packaging/install-deps.sh)")
endif()

# --- pwrudump on PATH: a relative link into Wireshark's extcap folder ---
# Computed at install time: CPack installs with the prefix /usr whatever the build's prefix.
install(CODE "
  set(_bindir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  file(RELATIVE_PATH _target \"\${_bindir}\" \"${PWRU_PKG_PROGRAM}\")
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}\${_bindir}\")
  message(STATUS \"Installing: \$ENV{DESTDIR}\${_bindir}/pwrudump -> \${_target}\")
  file(CREATE_LINK \"\${_target}\" \"\$ENV{DESTDIR}\${_bindir}/pwrudump\" SYMBOLIC)
")

# --- the rest is for the .deb alone, built where dpkg knows the Wireshark packages ---
if(NOT DPKG_QUERY)
  message(STATUS "dpkg-query not found: no Debian package target")
  return()
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "The Debian package installs under /usr, but this build's prefix is "
                 "${CMAKE_INSTALL_PREFIX}: its extcap help link (PWRU_HELP_URL) points there")
endif()

# pwru_owner_package(VAR PATH): the Debian package that ships PATH ("libwireshark16:amd64" -> name).
function(pwru_owner_package var path)
  execute_process(COMMAND ${DPKG_QUERY} -S "${path}" OUTPUT_VARIABLE out RESULT_VARIABLE rc
                  ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR out STREQUAL "")
    message(FATAL_ERROR "cannot find the Debian package that ships ${path} (dpkg-query -S): "
                        "build against Debian's wireshark-dev, or configure with "
                        "-DPWRU_BUILD_DISSECTOR=OFF")
  endif()
  string(REGEX REPLACE "[:,].*" "" out "${out}")
  set(${var} ${out} PARENT_SCOPE)
endfunction()

# Depends: the Wireshark this plugin was built against. The plugin folder is named after
# major.minor and Wireshark loads only plugins of its own major.minor: >= x.y and << x.(y+1).
get_target_property(_epan_lib epan LOCATION)
get_filename_component(_epan_lib "${_epan_lib}" REALPATH)
pwru_owner_package(_pkg_lib "${_epan_lib}")                              # libwireshark16
pwru_owner_package(_pkg_common "${Wireshark_EXTCAP_INSTALL_DIR}")       # wireshark-common
execute_process(COMMAND ${DPKG_QUERY} -W -f=\${Version} ${_pkg_common}
                OUTPUT_VARIABLE _ws_version OUTPUT_STRIP_TRAILING_WHITESPACE)
set(_ws "${Wireshark_VERSION_MAJOR}.${Wireshark_VERSION_MINOR}")
if(NOT _ws_version MATCHES "^([0-9]+:)?${Wireshark_VERSION_MAJOR}\\.${Wireshark_VERSION_MINOR}\\.")
  message(FATAL_ERROR "installed ${_pkg_common} ${_ws_version} is not the Wireshark ${_ws} "
                      "that the plugin is built against")
endif()
math(EXPR _next_minor "${Wireshark_VERSION_MINOR} + 1")
set(_ws_next "${Wireshark_VERSION_MAJOR}.${_next_minor}")

configure_file(${PWRU_PKG_DIR}/debian/postinst.in ${PWRU_PKG_BUILD}/postinst @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
configure_file(${PWRU_PKG_DIR}/debian/description.in ${PWRU_PKG_BUILD}/description @ONLY)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pwrudump)
set(CPACK_PACKAGE_VERSION ${PWRU_PKG_VERSION})
set(CPACK_PACKAGE_CONTACT "${PWRU_PKG_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "eBPF sk_buff tracer like pwru, as a Wireshark extcap")
set(CPACK_PACKAGE_DESCRIPTION_FILE ${PWRU_PKG_BUILD}/description)
# pwrudump_<version>_<arch>.deb, the name the package tests read (PWRU_PKG_FILE).
execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE PWRU_PKG_ARCH
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${PWRU_PKG_ARCH})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(PWRU_PKG_FILE pwrudump_${PWRU_PKG_VERSION}_${PWRU_PKG_ARCH}.deb)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "${_pkg_common} (>= ${_ws}), ${_pkg_common} (<< ${_ws_next}), \
${_pkg_lib} (>= ${_ws}), ${_pkg_lib} (<< ${_ws_next}), libcap2-bin, adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "wireshark (>= ${_ws}) | tshark (>= ${_ws})")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PWRU_PKG_BUILD}/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_STRIP_FILES ON)
# Wireshark's folders are absolute: install through DESTDIR, with everything else under /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)

if(PWRU_BUILD_TESTS AND PWRU_BUILD_DISSECTOR)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/package ${CMAKE_BINARY_DIR}/tests/package)
endif()

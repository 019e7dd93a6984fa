#[[ Installation layout and the Debian package: one `cpack -G DEB` (make package) builds
    xopd-workbench_<version>_<arch>.deb with stripped binaries, its debug symbols split into
    xopd-workbench-dbgsym_<version>_<arch>.ddeb, dependencies from dpkg-shlibdeps, manual pages
    (cmake/ManPages.cmake), the copyright file and changelog Debian policy asks for, and (with the
    GUI) a desktop entry, an icon and AppStream metadata. tests/package/check-package.sh builds it,
    runs lintian on it and runs the unpacked programs. ]]
include(GNUInstallDirs)
include(ManPages)

# Files and folders in the package get Debian's modes whatever the builder's umask.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(XOPD_DESKTOP_ID org.xopd.workbench)
set(_doc ${CMAKE_INSTALL_DATAROOTDIR}/doc/xopd-workbench)

install(TARGETS xopd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
xopd_install_man_page(xopd "cross-modal on-policy distillation of speech LLMs (command line)"
                      ${PROJECT_SOURCE_DIR}/packaging/man/xopd.h2m SUBCOMMANDS)
if(XOPD_GUI)
  install(TARGETS xopd-workbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  xopd_install_man_page(xopd-workbench "desktop workbench for cross-modal on-policy distillation of speech LLMs"
                        ${PROJECT_SOURCE_DIR}/packaging/man/xopd-workbench.h2m)
  set(_desktop ${PROJECT_SOURCE_DIR}/resources/desktop)
  install(FILES ${_desktop}/${XOPD_DESKTOP_ID}.desktop DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/applications)
  install(FILES ${_desktop}/${XOPD_DESKTOP_ID}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/metainfo)
  install(FILES ${_desktop}/${XOPD_DESKTOP_ID}.svg
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps)
endif()

# The package's version is the project's plus a Debian revision (0.1.0-1): a non-native package,
# so its changelog is changelog.Debian.gz. Bump the revision for a repackaging of one version.
set(XOPD_DEBIAN_REVISION 1)
set(XOPD_DEBIAN_VERSION ${PROJECT_VERSION}-${XOPD_DEBIAN_REVISION})

# Debian's copyright file (machine-readable, DEP-5) and changelog.Debian.gz (gzip -9n). The
# changelog's top entry must name this version.
file(STRINGS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog _top LIMIT_COUNT 1)
if(NOT _top MATCHES "^xopd-workbench \\(${XOPD_DEBIAN_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: the top entry is '${_top}'; "
                      "add an entry for version ${XOPD_DEBIAN_VERSION} (the project's version and revision)")
endif()
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/copyright DESTINATION ${_doc})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME xopd-workbench)
set(_changelog_gz ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/packaging)
install(CODE "execute_process(COMMAND gzip -9n -c \"${PROJECT_SOURCE_DIR}/packaging/debian/changelog\"
                              OUTPUT_FILE \"${_changelog_gz}\" COMMAND_ERROR_IS_FATAL ANY)")
install(FILES ${_changelog_gz} DESTINATION ${_doc})

set(CPACK_PACKAGE_NAME "xopd-workbench")
set(CPACK_PACKAGE_VENDOR "X-OPD Workbench")
# A placeholder project address (no mail is read there yet): lintian rejects @localhost.
set(CPACK_PACKAGE_CONTACT "X-OPD Workbench maintainers <maintainers@xopd.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
file(READ ${PROJECT_SOURCE_DIR}/packaging/debian/description CPACK_DEBIAN_PACKAGE_DESCRIPTION)
if(CPACK_DEBIAN_PACKAGE_DESCRIPTION MATCHES "[\";\\]")
  # CPack writes the text into CPackConfig.cmake, where these would split or escape it.
  message(FATAL_ERROR "packaging/debian/description: double quotes, semicolons and backslashes "
                      "end up mangled in the package's Description; reword without them")
endif()
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${XOPD_DEBIAN_REVISION})
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Stripped binaries; their debug symbols go to the -dbgsym .ddeb (needs a RelWithDebInfo or Debug
# build; CPACK_STRIP_FILES would strip them before the split).
# The split symbols are ~440 MB: gzip (CPack's default) compresses them with about a twelfth of
# xz's CPU time (40 MB of them: 1.4 s vs 16.8 s), for a main .deb of a few MB either way.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_POST_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/FixDbgsymPackage.cmake)
# Depends: what dpkg-shlibdeps finds, plus espeak-ng's voices (speech synthesis and the demo kit
# need them; libespeak-ng1 depends on them too). Recommends: OpenBLAS's OpenMP build, which
# LibTorch's BLAS calls use when installed (about 17 times faster than the reference BLAS).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "espeak-ng-data")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xvfb, xauth")
include(CPack)

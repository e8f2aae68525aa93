# `cpack -G DEB` in the build dir produces a .deb for Debian 12; packaging/test-deb installs it into a clean
# Debian 12 root with apt and runs it there.
set(CPACK_PACKAGE_NAME opsdeck)
set(CPACK_PACKAGE_VENDOR "opsdeck")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Administration console for Packit, datamon, RAFT, Pulumi and deployments")
# CPack puts the summary above this as the description's first line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Every destructive operation is planned, confirmed, run off the GUI thread, journaled and reported, from the Qt
console or the command line (opsdeck help). The datamon operations run datamon2 and the Google Cloud CLI, on a
bastion over SSH or on this machine; neither is packaged in Debian.")
set(CPACK_PACKAGE_CONTACT "opsdeck maintainers")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# A Debian binary package ships stripped binaries (and installs faster).
set(CPACK_STRIP_FILES ON)
# dpkg-shlibdeps adds the libraries the binary links: Qt 6 Core/Gui/Widgets/Network/Sql/WebSockets, QtKeychain,
# libssh, yaml-cpp. Qt loads the rest as plugins, which no linker sees: the SQL drivers (QPSQL and QMYSQL for the
# Packit and Pulumi databases, QSQLITE for the journal) and the SVG icon engine (the window icon). The xcb and
# offscreen platform plugins are in libqt6gui6 itself.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-psql, libqt6sql6-mysql, libqt6sql6-sqlite, libqt6svg6")
# QtKeychain reaches the Secret Service through libsecret, which it loads at run time; without a keyring secrets
# are asked for and kept in memory only.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libsecret-1-0, gnome-keyring | kwalletmanager")
# The default deploy.command is `nix run ...` (deploy-rs, which connects with ssh).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nix-bin, openssh-client")
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/io.opsdeck.opsdeck.desktop DESTINATION share/applications)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/io.opsdeck.opsdeck.metainfo.xml DESTINATION share/metainfo)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/resources/icons/opsdeck.svg DESTINATION share/icons/hicolor/scalable/apps)
include(CPack)

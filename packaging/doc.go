// Package packaging holds no Go code: it is the home of rovd's .deb and
// .rpm packages (nfpm.yaml, build.sh, the maintainer scripts, the
// default /etc/rovd.conf and the hardened systemd units under systemd/),
// and its tests check them. See README.md.
//
// The tests build the static binary and both packages into temporary
// directories, list and unpack them (dpkg-deb, rpm), verify the units
// (systemd-analyze) and, only when ROVD_PACKAGE_INSTALL_TEST=1 is set
// and they run as root, install the .deb on the machine, run the
// installed service under systemd-socket-activate, remove and purge it
// again. Each step skips with the reason when a tool it needs
// is missing.
package packaging

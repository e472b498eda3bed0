// Package sdtest fakes systemd socket activation in tests: it starts
// the test binary again as a child process that receives listening
// sockets the way systemd passes them (descriptors from 3 on,
// LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID naming the child itself),
// and reads back what the child reports as a line of JSON. The tests of
// netio's SystemdListeners and of appliance/listen share it; the tests
// of the real thing run rovd under systemd-socket-activate.
//
// Only tests import it (.ci/check-imports keeps it out of the appliance
// packages and cmd). It imports the standard library and x/sys only.
package sdtest

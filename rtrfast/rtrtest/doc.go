// Package rtrtest drives real RTR clients in tests: rtrlib's rtrclient
// (Debian rtr-tools) and BIRD 2's rpki protocol (Debian bird2), each
// connected to an RTR server on loopback, and reads back the VRPs they
// hold, so that tests can check what a router really ends up with.
//
// Only tests import it: rtrfast's own, and appliance/cli's against the
// server command. The rovd binary never links it (.ci/check-imports
// keeps it out of cmd and of the appliance packages). It imports
// engine/payload and the standard library only, and takes a testing.TB
// for failures, skips and cleanups; it keeps no global state.
//
// Every wait is bounded by Timeout, and every process it starts is
// killed when the test that started it ends.
package rtrtest

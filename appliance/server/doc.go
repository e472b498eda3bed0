// Package server runs the server command's refresh loop: it takes a new
// payload set from a source (a validation run, or in relay mode another
// validator's JSON), publishes it to the RTR server, and waits refresh
// seconds, less when objects expire sooner and retry seconds after a
// failure, until it is told to stop.
//
// Beyond the manual (ours):
//
//   - The published set is written to a state file after each run. At
//     start, a state file whose set is at most expire seconds old is
//     published at once and the listeners open, before the first run:
//     routers get data within seconds of a restart, not minutes.
//   - The collapse guard (max-vrp-drop): a run that would shrink the VRPs
//     by more than a given share of the published set is held back until
//     max-vrp-drop-runs runs in a row show the drop, or SIGUSR2. Its
//     state is GuardState, for /status and /metrics.
//
// Signals (through Options.Signals): SIGINT and SIGTERM stop the server
// cleanly, SIGUSR1 starts a run at once (re-reading the TALs, which the
// validation source checks first), SIGUSR2 releases a held set.
//
// The loop itself knows payload sets, a Source and a Publisher only; the
// sources it ships (Validator over appliance/runner, Relay over
// appliance/relay) are in sources.go. The RTR server (rtrfast) satisfies
// Publisher and is handed in by appliance/cli.
package server

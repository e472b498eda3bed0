// Package logging builds rovd's logger from the manual's logging
// settings: the level (log-level, -v, -q), the target (log: default,
// stderr, syslog or file), syslog-facility and log-file. It is the only
// place in rovd that creates slog handlers; every other package takes a
// *slog.Logger. The server's log file can be reopened (SIGHUP, after
// logrotate renamed it) and moved under a chroot (Log).
//
// It depends on the standard library only.
package logging

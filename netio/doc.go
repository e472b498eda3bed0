// Package netio brings RPKI repositories into the object store: RRDP
// (RFC 8182) over HTTPS first, rsync as the fallback, as the Routinator
// manual describes, and holds the listener helpers of the server: systemd
// socket activation and TCP keepalive. It imports store
// and its own subpackage rrdp (the XML parser) and must not import
// engine, rtrfast or appliance: the engine asks for repositories through
// an interface of its own, which a *Run satisfies.
//
// # Collector and Run
//
// A Collector lives across validation runs and keeps the HTTP client.
// Each run starts a Run; Run.Fetch(notify, caRepository) brings a CA's
// repository up to date at most once per run, however many CAs ask,
// with at most Config.Parallel repositories in flight, and returns the
// store key to read the CA's objects from. Run.Statuses reports every
// repository's fetch (protocol, session and serial, bytes, objects,
// duration, error) for metrics and /status.
//
// # RRDP
//
// The notification is fetched conditionally (ETag, Last-Modified). With
// the same session and a serial we have, the deltas between are fetched,
// each checked against its hash, and applied in one commit; the snapshot
// is used instead when the deltas do not form an unbroken chain, when
// there are more than rrdp-max-delta-count of them, when the serial went
// backwards, when a delta we knew changed its hash (the server rewrote
// history), or when a delta fails. A snapshot streams into a new store
// generation and replaces the old content only if its hash matches.
// Snapshot and delta URIs must share the notification's origin (RFC
// 9674), object URIs must be plain rsync URIs (no dot or empty segments,
// no percent-encoding or control bytes) below the rsync host of the CA
// that named the repository, and no object may exceed max-object-size.
//
// Every network operation has rrdp-timeout; a whole repository update
// has rrdp-total-timeout (ours, default 20 minutes), because a server
// that drips one byte per timeout would otherwise hold a run forever.
// gzip is decoded with klauspost/compress and a body that inflates
// beyond 100 times its wire size is cut off as a bomb. A failed update
// leaves the stored data as it was; the Run keeps serving it while RRDP
// last worked within the fallback time (drawn per repository between
// the refresh time and rrdp-fallback-time), and falls back to rsync
// after.
//
// # rsync
//
// The rsync command runs once per module into a working tree under the
// repository directory, in its own process group, which is killed whole
// when rsync-timeout passes. The module's files then replace its content
// in the store (unchanged files keep their stored data).
//
// # Listeners
//
// SystemdListeners takes the sockets of systemd socket activation
// (sd_listen_fds(3): LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, descriptors
// from 3 on), makes them non-blocking and close-on-exec and unsets the
// variables. KeepAlive wraps a listener so that accepted connections get
// the rtr-tcp-keepalive idle time (TCP_KEEPIDLE), or no keepalives for
// zero; accept errors pass through unchanged for the server to judge.
package netio

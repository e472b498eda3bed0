// Package serve serves a world written by bench/world on loopback, the way
// relying parties meet it in production: over HTTPS for RRDP (RFC 8182)
// and the trust anchor certificates of the TALs (RFC 8630), and over rsync
// through Debian's rsync daemon. rovd's tests and rovd-bench use it; nothing
// in rovd itself may import it, and it must not import rovd's engine, netio
// or appliance packages: like bench/world it is the independent side that
// rovd is checked against.
//
// # Servers
//
// Start reads DIR/world.json and starts, for every distinct HTTPS host:port
// of the world's repositories and trust anchors, one in-process HTTPS server
// (net/http, crypto/tls), and for every distinct rsync host:port one
// `rsync --daemon --no-detach` process with one read-only module per
// repository (path DIR/rsync/HOST:PORT/MODULE). Host names and ports are
// signed into the world's objects, so the servers bind exactly those
// addresses; a busy one makes Start fail with an *AddrError naming the
// address and the repositories that need it, after stopping whatever it
// had started. Start returns once every server answers: a TLS handshake
// checked against the test CA, and an rsync module listing.
//
// An HTTPS server maps a URI's path onto the file of the same path under
// DIR, and serves only files below DIR/rrdp and DIR/ta: 404 for anything
// else, for directories and for paths that are not canonical, and reads go
// through os.Root, so no symlink leads out of those trees either.
// Responses carry an ETag (from size and modification time) and
// Last-Modified (left out while the file is less than a second old, as
// HTTP dates have whole seconds), and conditional requests get 304
// (http.ServeContent). With Accept-Encoding: gzip the body is compressed
// on the fly unless Options.NoGzip is set; the compressed variant has its
// own ETag and ignores Range.
//
// # The test CA
//
// The HTTPS servers use a test CA made once per world and kept in
// DIR/serve/: ca.pem (give it to relying parties as --rrdp-root-cert, or use
// Server.Client in Go), ca.key, and server.pem and server.key, one ECDSA
// P-256 certificate for every host name and address the world uses plus
// 127.0.0.1, ::1 and localhost. The server certificate is issued again when
// the world needs a name it lacks or when it nears expiry; the CA is kept.
// The rsync daemons' configuration and log files are in DIR/serve/ too.
//
// # Changing the world while serving
//
// Both kinds of server read from disk at every request, so Server.Mutate
// (world.Mutate) is visible at once. bench/world rewrites notification.xml
// in place, so while Server.Mutate runs, requests for notification files
// wait for it to finish rather than read half a file. A world mutated by
// another process (rovd-bench world --mutate) has no such protection.
//
// # Hostile servers
//
// Options.Wrap puts a test's middleware around the file handler (dripping
// bytes, 5xx, endless redirects, gzip bombs, ...), and Server.Requests
// returns what every HTTPS server answered: method, path, status, body
// bytes, whether the request was conditional and the answer compressed.
//
// # Use from other packages' tests
//
// SmallWorld builds the small preset into t.TempDir() on free loopback
// ports, serves it and closes it when the test ends; World does the same
// for any world.Config. Both skip the test when rsync is not installed,
// unless Options.NoRsync asks for RRDP only:
//
//	func TestFetch(t *testing.T) {
//		srv := serve.SmallWorld(t, serve.Options{})
//		resp, err := srv.Client().Get(srv.NotifyURIs()[0])
//		...
//	}
//
// Building the small preset takes a few seconds, so a package with many
// such tests may share one Server started from TestMain (Start, Close).
//
// Processes: the rsync daemons run in their own process groups. Close
// stops every HTTPS server and kills each daemon's whole group and waits
// for it; on Linux a daemon also dies with the process that started it.
package serve

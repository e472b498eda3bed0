// Package httpapi is rovd's HTTP service: every path of the manual's
// "HTTP Service" section, served with github.com/valyala/fasthttp.
//
// The server command owns validation and RTR; it hands each published
// data set to a Service as an immutable Snapshot (Publish) and gives it
// the listeners to serve on (Serve, once per listener; a tls.Listener
// gives HTTPS). A Snapshot is swapped in with one atomic pointer store,
// so a request sees one data set from its first byte to its last and
// never takes a lock. The RTR server's figures and the collapse guard's
// state reach /metrics and /status through SetRTRStats and SetGuard.
//
// A request's line and headers are limited (8 KiB by default; 431
// beyond), and reading a request, writing an answer and waiting on a
// kept-alive connection have timeouts, so that slow or stalled clients
// hold only their own connection.
//
// # Paths
//
//   - /csv, /csvcompat, /csvext, /json, /jsonext, /slurm, /openbgpd,
//     /bird1, /bird2, /rpsl, /summary, /none and /api/v1/origins/ (json):
//     the current set in that output format (appliance/output), filtered
//     by the repeatable query fields select-asn and select-prefix
//     (filter-asn and filter-prefix are accepted as Routinator's older
//     names). An unfiltered answer is rendered once per serial, kept in
//     memory with its gzip encoding (made the first time a client asks
//     for gzip) and served with an ETag and Last-Modified; a matching
//     If-None-Match or If-Modified-Since gets 304.
//   - /json-delta?session=S&serial=N: the changes since serial N of
//     session S in Routinator's layout, from the history of the last
//     history-size serials, or the whole set with "reset": true.
//   - /api/v1/validity/ASN/PREFIX and /validity?asn=ASN&prefix=PREFIX:
//     the RIPE NCC RPKI Validator's JSON (appliance/validity).
//   - /metrics: Prometheus text exposition (metrics.go lists the names).
//   - /status: the same figures as plain text, one "key: value" a line.
//   - /log: the log of the last validation run.
//   - /version: the version string.
//   - /ui (ours): a status page for people, one self-contained HTML
//     page (ui.html, embedded) whose script draws /ui/data.json: the
//     figures of /status in JSON plus the serial, VRP, ASPA and router
//     key counts and run time of the last 50 runs for its chart. The
//     page is served with a Content-Security-Policy that lets it load
//     nothing but its own data; /ui/ redirects to it.
//
// Only GET and HEAD are served (405 otherwise); unknown paths get 404;
// data paths answer 503 until the first Snapshot is published. Errors of
// the API paths (/api/..., /validity, /json-delta, /ui/data.json) have a
// JSON body {"error": "..."}, others plain text, as in Routinator.
//
// # Metric names
//
// Metrics whose meaning is the same as one of Routinator's keep its name
// (routinator_...), so that existing dashboards and alerts work when rovd
// replaces it. Figures Routinator does not have are named rovd_...
//
// It must not be imported by engine, rtrfast, store or netio.
package httpapi

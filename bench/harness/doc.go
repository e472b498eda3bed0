// Package harness runs rovd's end-to-end benchmarks: rovd and its peers
// (rpki-client, FORT) on the same generated world (bench/world), each
// measured for wall and CPU time and peak memory of its whole process
// tree, checked against the world's ground truth and set beside a
// physical bound measured in the same run. It is what 'rovd-bench run'
// executes.
//
// # Stages
//
// A run is a list of stages (Stage). Each stage measures one aspect
// ("fetch": the whole world into an empty store over RRDP and rsync;
// "validate": a full and an incremental validation from a filled store;
// "rtr" and "http": rovd's RTR and HTTP services holding a generated
// set)
// and stores its results under its name in DIR/results.json; a stage
// whose results are already there is skipped, so an interrupted run
// resumes where it stopped. DIR/report.md, DIR/report.json and the plots
// are rendered from results.json after every stage.
//
// A stage is added by implementing Stage and listing it in stages
// (stage.go), where its place sets the order of running and reporting;
// --stages and results.json know it by its name. Run hands it an Env:
// the world (already built and described by Env.State), paths under the
// run's directory (Env.Path), the rovd binary (Env.Rovd), the options
// and a Progress printer for its plan of steps. Two optional interfaces
// extend it: a Scaled stage (validate, rtr) runs at every world size of
// --scale and gives one ScalePoint per program for the scaling tables
// and plots; a
// Plotter stage draws Figures of its own (an RTR stage's time to the
// last End of Data against sessions, say), which WritePlots renders
// with gonum/plot and report.md shows after the stage's section.
//
// # Scaling
//
// With Options.Scale (--scale 1/8,1/4,1/2,1), each Scaled stage runs
// once per size, from the smallest. Size 1 is the preset's world in
// DIR/world; any other size's world is derived from the preset by
// Scale.Config (the children of each trust anchor, and so the CAs,
// objects and VRPs, scale with it; the faults too, but never below one
// of each kind), built on the preset world's repositories into
// DIR/worlds/SIZE/world and reused by later runs while its shape
// matches and, when peers run, its manifests still cover the current
// time. A stage's results at a size are stored as NAME@SIZE, so each
// size is resumed on its own.
//
// # Layout of DIR
//
//	world/               the world (bench/world), reused if world.json exists
//	world/serve/         the loopback servers' test CA (ca.pem) and rsync files
//	worlds/SIZE/         a scaled size: its world/ and its own rovd-store/, peers/, out/, logs/, diffs/
//	bin/rovd             rovd built from this module (unless Options.Rovd is set)
//	rovd-store/          rovd's repository directory (-r) in the validate stage
//	rtr/, http/          the rtr and http stages' rovd store and log
//	fetch-store/         the fetch stage's stores, removed when it ends
//	peers/NAME/          a peer's offline cache and output
//	out/                 every program's VRP output, one file per run
//	logs/                every program's stdout and stderr, one file per run
//	diffs/               every VRP on which the programs and the truth disagree, one csv per comparison
//	results.json         Results
//	report.md            the tables, the differences and the plots
//	report.json          ReportJSON: every figure and the machine's facts
//	plots/               the SVG plots
//
// # The fetch stage
//
// The stage serves the world on loopback as the validate stage does,
// but has no fallback: fetching is what it measures. Each run is 'rovd
// update' into an empty store over RRDP, then 'rovd vrps -n
// --cold-cache' on that store (the validation that update also did,
// measured alone: the difference estimates the fetch), then 'rovd
// update --disable-rrdp' into another empty store, over rsync from
// Debian's rsync daemon (rovd's rsync clients are in its process tree).
// Beside them stands the ingest bound (IngestBound): SHA-256 of every
// snapshot file plus base64 decoding of every object in it, on one
// core, measured on the world's own files after the runs.
//
// # The validate stage
//
// The stage serves the world on loopback for its whole length
// (bench/world/serve, in the harness's process; the ports are the
// world's, fixed in its world.json) and stops the servers on every way
// out, an interrupt included. rovd's store is filled the way rovd's
// server fills it, with 'rovd update' over RRDP (--rrdp-root-cert
// naming the servers' test CA), which also fills the validation cache.
// The full run is then 'rovd vrps -n --cold-cache' (no network, no
// cache), with rovd's default number of validation threads and with
// one. The incremental run is measured as the full one is, from the
// store: MutatePercent of the publication points change, the harness
// brings the changed repositories' RRDP deltas into rovd's store with
// rovd's own fetcher (FetchWorld, not measured), and 'rovd vrps -n -f
// none' validates with the cache kept; a 'rovd update' after it (not
// measured) writes the cache, since -n writes nothing. A second row
// measures what rovd's server does every refresh: after another change,
// 'rovd update' fetches the deltas over loopback HTTPS and validates.
// After each, a 'rovd vrps -n', not measured, gives its VRPs for the
// comparison with the mutated world's truth. What each rovd run
// fetched is read from the servers' request log and the rsync daemons'
// logs. Only when the world cannot be served (a port taken) are the
// store and the incremental runs fed by importing the rsync tree
// instead ('rovd update --import', or the store's import for the
// incremental run), and the report says so.
//
// # The HTTP stage
//
// rovd runs as 'rovd server --source --http' relaying the RTR stage's
// generated set (the same seed and size), with its relay polling once an
// hour so that nothing but the requests runs in it. Once the set is
// published (rovd answers a Reset Query and the validity API), the stage
// asks once for /json-delta and every output format, then /json in
// gzip, each the first request of its answer (which renders it) and
// then again (served from memory), timing each to its first byte and
// its last. Then it loads rovd (bench/httpload: one kept-alive
// connection per client, bodies streamed into a discarding buffer) with
// /json in identity and gzip encoding and with If-None-Match (304), and
// with the validity API as a query and as a path for 1,024 random
// routes of the set, at each number of clients for a fixed time, Runs
// times, sampling rovd's process tree for CPU time and peak memory over
// each run. After each rovd round the same client loads a bare fasthttp
// server answering with rovd's own bytes: the bound, in a process of
// its own as rovd (httpload.StartBareProcess starts the running program
// again). Last, RTR sessions connect and
// fetch the full table, and with them connected /json and the validity
// API run at once while rovd's memory is sampled.
//
// # Differences
//
// Each peer's VRPs, rovd's and the world's truth are set side by side
// (Diff): every VRP not in all of them goes into DIR/diffs/*.csv with
// the lists that hold it and, where the world explains it, the cause: an
// injected fault (truth/faults.json; FORT 1.5, for one, keeps a ROA
// whose EE certificate inherits its resources) or an unsafe VRP
// (truth/unsafe.csv). report.md shows the counts and the first lines.
//
// # Peers
//
// Peers run offline on a copy of the world's rsync tree made of hard
// links. rpki-client 8.2 with -n reads CACHE/HOST[:PORT]/MODULE/PATH for
// rsync URIs and CACHE/ta/TAL/FILE for the certificate of the TAL named
// TAL.tal; -n is all it needs offline (-r and -R only choose how to
// fetch). Run as root it drops to the _rpki-client user, so its input
// must be reachable by that user: when DIR is not, its input goes into
// a temporary directory instead. FORT 1.5 with --work-offline reads
// CACHE/HOST[:PORT]/PATH for rsync and HTTPS URIs alike, so the rsync
// tree (which holds the TA certificates under MODULE/ta/) serves it as
// is. Both accept the world's 127.0.0.1:PORT hosts offline. Neither has
// a validation time option: they validate at the current time, so a
// world is usable for them for the 24 hours its manifests live.
//
// # Measurement
//
// A program runs in its own process group, its output going straight
// to a log file. Every SampleInterval the harness walks /proc for the
// program's process tree and sums VmRSS and RssAnon over it; the peaks
// of these sums are the reported peak RSS and peak anonymous RSS (the
// peak RSS is at least the largest VmHWM of any one process, which
// catches a burst between two samples). CPU time is the larger of the
// rusage wait4 returns for the program (which includes every descendant
// it waited for) and the last sampled sum over the tree of each
// process's own and reaped children's time (which covers descendants
// not waited for, while they live). Cancelling the context kills the
// whole group.
//
// The package depends on bench/world, bench/rtrload, bench/httpload,
// appliance/output (for the list of formats), gonum.org/v1/plot and the
// standard library; nothing in rovd imports it.
package harness

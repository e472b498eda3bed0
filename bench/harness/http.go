package harness

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/bench/httpload"
	"github.com/rovd/rovd/bench/rtrload"
)

// The HTTP stage: rovd's HTTP service holding one VRP set, the RTR
// stage's (rovd relays the same generated JSON, see RunRTR), under
// concurrent clients. It times the first, uncached request of every
// output format after publication; measures requests per second and
// latency of /json (plain, gzip, and conditional with If-None-Match)
// and of both forms of the validity API for random routes of the set,
// at each number of clients; and takes rovd's resident memory while it
// also holds many RTR sessions. The bound is a bare fasthttp server
// answering every request with rovd's own answer, prebuilt, measured
// with the same client in the same run (in a process of its own, as
// rovd), and for /json also a raw loopback TCP copy of its bytes.

// HTTPOptions configure the HTTP stage.
type HTTPOptions struct {
	// Rovd is the rovd binary.
	Rovd string
	// Dir is the stage's working directory.
	Dir string
	// VRPs is the size of the set.
	VRPs int
	// Clients are the numbers of concurrent clients of the load rounds.
	Clients []int
	// Round is the length of each load round, Runs the number of runs
	// of each (the median is reported).
	Round time.Duration
	Runs  int
	// Sessions is the number of RTR sessions rovd holds while its
	// memory is measured under HTTP load.
	Sessions int
	// Timeout bounds waiting for rovd to serve the set, each request and
	// the RTR sessions' full tables.
	Timeout time.Duration
	// Step, if not nil, announces a step of the stage by its kind (see
	// httpSteps) and returns the function that marks it finished.
	Step func(kind, what string) (finish func())
}

// Kinds of the stage's steps, for progress.
const (
	httpStepStart    = "http-start"
	httpStepRender   = "http-render"
	httpStepLoad     = "http-load"
	httpStepSessions = "http-sessions"
)

// HTTPResult is the HTTP stage's outcome.
type HTTPResult struct {
	VRPs int `json:"vrps"`
	// Served is the number of VRPs in rovd's /json.
	Served int `json:"served"`
	// JSONBytes and JSONGzipBytes are the sizes of /json in identity
	// and gzip encoding.
	JSONBytes     int `json:"jsonBytes"`
	JSONGzipBytes int `json:"jsonGzipBytes"`
	// LoopbackBytesPerSec is the raw loopback TCP copy rate of /json's
	// bytes.
	LoopbackBytesPerSec float64 `json:"loopbackBytesPerSec"`
	// RoundSecs is the length of each load round, Runs the runs of each.
	RoundSecs float64 `json:"roundSecs"`
	Runs      int     `json:"runs"`
	// Render holds the first request of each output format after the
	// set was published, and of /json in gzip.
	Render []HTTPRender `json:"render"`
	// Rounds holds each scenario at each number of clients, against
	// rovd and the bare server.
	Rounds []HTTPRound `json:"rounds"`
	// Sessions is rovd's memory with RTR sessions connected and HTTP
	// load running.
	Sessions *HTTPSessions `json:"sessions,omitempty"`
	// MaxHWM is rovd's own peak resident memory (VmHWM) at the end of
	// the stage: the most it ever held, start-up included.
	MaxHWM int64 `json:"maxHWM"`
}

// HTTPRender is the first request of one path after publication, which
// renders the answer, and the second, served from memory.
type HTTPRender struct {
	Path string `json:"path"`
	Gzip bool   `json:"gzip,omitempty"`
	// Bytes is the answer's size as sent.
	Bytes int64 `json:"bytes"`
	// FirstByteSecs and CompleteSecs time the first request to its
	// first byte and to its last; CachedSecs the second request to its
	// last.
	FirstByteSecs float64 `json:"firstByteSecs"`
	CompleteSecs  float64 `json:"completeSecs"`
	CachedSecs    float64 `json:"cachedSecs"`
	Err           string  `json:"err,omitempty"`
}

// Scenarios of the load rounds.
const (
	HTTPJSON          = "json"
	HTTPJSONGzip      = "json-gzip"
	HTTPJSONNotMod    = "json-304"
	HTTPValidityQuery = "validity-query"
	HTTPValidityPath  = "validity-path"
)

// HTTPRound is one scenario at one number of clients against one
// server, run Runs times.
type HTTPRound struct {
	Scenario string `json:"scenario"`
	// Server is "rovd" or "bare".
	Server  string    `json:"server"`
	Clients int       `json:"clients"`
	Runs    []HTTPRun `json:"runs"`
	// RPS spreads the runs' requests per second; P50Secs and P99Secs
	// are the medians of the runs' latency quantiles; CPUPercent the
	// median of the server's CPU time over the run's time, in percent
	// of one core.
	RPS        Spread  `json:"rps"`
	P50Secs    float64 `json:"p50Secs"`
	P99Secs    float64 `json:"p99Secs"`
	MBPerSec   float64 `json:"mbPerSec"`
	CPUPercent float64 `json:"cpuPercent,omitempty"`
	// PeakRSS and PeakAnon are the server's largest sampled resident
	// and anonymous memory over the runs.
	PeakRSS  int64 `json:"peakRSS,omitempty"`
	PeakAnon int64 `json:"peakAnon,omitempty"`
	// Failed counts failed requests over the runs; Err is the first.
	Failed int64  `json:"failed,omitempty"`
	Err    string `json:"err,omitempty"`
}

// HTTPRun is one run of a round.
type HTTPRun struct {
	Requests    int64   `json:"requests"`
	Failed      int64   `json:"failed,omitempty"`
	Err         string  `json:"err,omitempty"`
	Secs        float64 `json:"secs"`
	RPS         float64 `json:"rps"`
	BytesPerSec float64 `json:"bytesPerSec"`
	P50Secs     float64 `json:"p50Secs"`
	P99Secs     float64 `json:"p99Secs"`
	// CPUSecs, PeakRSS and PeakAnon are the server's, where it was
	// measured.
	CPUSecs  float64 `json:"cpuSecs,omitempty"`
	PeakRSS  int64   `json:"peakRSS,omitempty"`
	PeakAnon int64   `json:"peakAnon,omitempty"`
}

// HTTPSessions is rovd's memory holding the set with RTR sessions
// connected and the HTTP service under load.
type HTTPSessions struct {
	// Sessions connected; Synced of them got the full table.
	Sessions int    `json:"sessions"`
	Synced   int    `json:"synced"`
	Err      string `json:"err,omitempty"`
	// Before is rovd's resident and anonymous memory before the
	// sessions connected (the set held, every output rendered), Synced
	// after every session got its full table.
	RSSBefore  int64 `json:"rssBefore"`
	AnonBefore int64 `json:"anonBefore"`
	RSSSynced  int64 `json:"rssSynced"`
	AnonSynced int64 `json:"anonSynced"`
	// PeakRSS and PeakAnon are the sampled peaks while JSON and
	// Validity ran at once, each with LoadClients clients, for
	// LoadSecs, the sessions connected.
	PeakRSS     int64   `json:"peakRSS"`
	PeakAnon    int64   `json:"peakAnon"`
	LoadClients int     `json:"loadClients"`
	LoadSecs    float64 `json:"loadSecs"`
	JSON        HTTPRun `json:"json"`
	Validity    HTTPRun `json:"validity"`
}

// httpScenario is the requests of one kind of round.
type httpScenario struct {
	name   string
	uris   []string
	header [][2]string
	status int
}

// RunHTTP runs the HTTP stage.
func RunHTTP(ctx context.Context, opt HTTPOptions) (*HTTPResult, error) {
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	step := opt.Step
	if step == nil {
		step = func(string, string) func() { return func() {} }
	}
	res := &HTTPResult{VRPs: opt.VRPs, RoundSecs: opt.Round.Seconds(), Runs: opt.Runs}
	feed := newVRPFeed(opt.VRPs)
	hs, err := feed.serve()
	if err != nil {
		return nil, err
	}
	defer hs.Close()

	finish := step(httpStepStart, fmt.Sprintf("rovd server --http relaying %d VRPs", opt.VRPs))
	httpAddr := freeAddr()
	rovd, err := startRTRServer(ctx, opt.Dir, "rovd-http", opt.Rovd, func(addr string) []string {
		tals := filepath.Join(opt.Dir, "tals")
		os.MkdirAll(tals, 0o755)
		// The relay polls the feed once an hour: nothing else runs in
		// rovd while it is measured.
		return []string{"-r", filepath.Join(opt.Dir, "rovd-store"), "-t", tals, "-q", "server",
			"--source", hs.url, "--rtr", addr, "--http", httpAddr, "--refresh", "3600"}
	})
	if err != nil {
		return nil, err
	}
	defer rovd.stop()
	if _, err := rovd.waitReady(ctx, opt.Timeout); err != nil {
		return nil, err
	}
	base := "http://" + httpAddr
	routes := validityRoutes(feed, 1024)
	hc := &http.Client{Timeout: opt.Timeout, Transport: &http.Transport{DisableCompression: true}}
	defer hc.CloseIdleConnections()
	if err := waitHTTP(ctx, hc, base+routes[0].path(), opt.Timeout); err != nil {
		return nil, fmt.Errorf("rovd's HTTP service (see %s): %w", rovd.log.Name(), err)
	}
	finish()

	// Every format once after publication, before anything asked for
	// it; /json in gzip last, its identity answer being ready then.
	finish = step(httpStepRender, "the first request of every output format")
	var jsonBody, gzBody []byte
	var etag string
	paths := []string{"/json-delta"}
	for _, f := range output.Formats {
		paths = append(paths, "/"+f)
	}
	for _, p := range append(paths, "/json") {
		gz := len(res.Render) == len(paths)
		var header [][2]string
		if gz {
			header = [][2]string{{"Accept-Encoding", "gzip"}}
		}
		keep := p == "/json"
		r := HTTPRender{Path: p, Gzip: gz}
		first, err := fetchTimed(ctx, hc, base+p, header, keep)
		if err == nil {
			var again timedAnswer
			again, err = fetchTimed(ctx, hc, base+p, header, false)
			r.Bytes, r.FirstByteSecs, r.CompleteSecs, r.CachedSecs = first.bytes, first.firstByte.Seconds(), first.complete.Seconds(), again.complete.Seconds()
		}
		if err != nil {
			r.Err = err.Error()
		}
		res.Render = append(res.Render, r)
		switch {
		case keep && gz:
			gzBody = first.body
		case keep:
			jsonBody, etag = first.body, first.etag
		}
	}
	finish()
	if jsonBody == nil || gzBody == nil || etag == "" {
		return nil, fmt.Errorf("rovd's /json: no answer with an ETag (%+v)", res.Render)
	}
	res.JSONBytes, res.JSONGzipBytes = len(jsonBody), len(gzBody)
	res.Served = bytes.Count(jsonBody, []byte(`"asn":`))
	if res.LoopbackBytesPerSec, err = rtrload.LoopbackCopy(jsonBody, max(1, (256<<20)/len(jsonBody))); err != nil {
		return nil, fmt.Errorf("loopback copy: %w", err)
	}
	valAnswer, err := fetchTimed(ctx, hc, base+routes[0].path(), nil, true)
	if err != nil {
		return nil, err
	}

	var queryURIs, pathURIs []string
	for _, r := range routes {
		queryURIs = append(queryURIs, r.query())
		pathURIs = append(pathURIs, r.path())
	}
	scenarios := []struct {
		httpScenario
		bare httpload.Response
	}{
		{httpScenario{HTTPJSON, []string{"/json"}, nil, 0},
			httpload.Response{Body: jsonBody, ContentType: "application/json", ETag: etag}},
		{httpScenario{HTTPJSONGzip, []string{"/json"}, [][2]string{{"Accept-Encoding", "gzip"}}, 0},
			httpload.Response{Body: gzBody, ContentType: "application/json", ContentEnc: "gzip"}},
		{httpScenario{HTTPJSONNotMod, []string{"/json"}, [][2]string{{"If-None-Match", etag}}, http.StatusNotModified},
			httpload.Response{Body: jsonBody, ContentType: "application/json", ETag: etag}},
		{httpScenario{HTTPValidityQuery, queryURIs, nil, 0},
			httpload.Response{Body: valAnswer.body, ContentType: "application/json"}},
		{httpScenario{HTTPValidityPath, pathURIs, nil, 0},
			httpload.Response{Body: valAnswer.body, ContentType: "application/json"}},
	}
	for _, sc := range scenarios {
		// The bare server has a process of its own, as rovd has.
		bare, err := httpload.StartBareProcess(ctx, sc.bare)
		if err != nil {
			return nil, err
		}
		for _, n := range opt.Clients {
			finish := step(httpStepLoad, fmt.Sprintf("%s with %d client(s), rovd and the bare server", sc.name, n))
			res.Rounds = append(res.Rounds, loadRound(ctx, "rovd", rovd.cmd.Process.Pid, httpAddr, sc.httpScenario, n, opt))
			res.Rounds = append(res.Rounds, loadRound(ctx, "bare", bare.Pid(), bare.Addr(), sc.httpScenario, n, opt))
			finish()
			if ctx.Err() != nil {
				break
			}
		}
		bare.Close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	if opt.Sessions > 0 {
		finish := step(httpStepSessions, fmt.Sprintf("memory with %d RTR sessions and HTTP load", opt.Sessions))
		res.Sessions = sessionsLoad(ctx, rovd, httpAddr, pathURIs, opt)
		finish()
	}
	res.MaxHWM = rovd.sample().MaxHWM
	return res, ctx.Err()
}

// validityRoute is a route asked about in the validity rounds.
type validityRoute struct {
	asn    uint32
	prefix netip.Prefix
}

func (r validityRoute) path() string {
	return "/api/v1/validity/AS" + strconv.FormatUint(uint64(r.asn), 10) + "/" + r.prefix.String()
}

func (r validityRoute) query() string {
	return "/validity?asn=AS" + strconv.FormatUint(uint64(r.asn), 10) + "&prefix=" + r.prefix.String()
}

// validityRoutes returns n routes from a fixed seed, the first valid:
// half of them a VRP's prefix with its AS (valid), a quarter with
// another AS (invalid), a quarter an IPv4 /24 or IPv6 /48 no VRP of the
// set covers (not found).
func validityRoutes(f *vrpFeed, n int) []validityRoute {
	rng := rand.New(rand.NewPCG(17, 17))
	held := make(map[netip.Prefix]bool, len(f.vrps))
	for _, v := range f.vrps {
		held[v.prefix] = true
	}
	routes := make([]validityRoute, 0, n)
	for len(routes) < n {
		v := f.vrps[rng.IntN(len(f.vrps))]
		switch len(routes) % 4 {
		case 0, 1:
			routes = append(routes, validityRoute{v.asn, v.prefix})
		case 2:
			routes = append(routes, validityRoute{v.asn + 1, v.prefix})
		default:
			// The feed's prefixes are all /24s and /48s, so one not in
			// it is covered by none.
			if p := randomFeedPrefix(rng); !held[p] {
				routes = append(routes, validityRoute{64496, p})
			}
		}
	}
	return routes
}

// waitHTTP polls url until it answers 200 (rovd's data paths answer 503
// until the set is published to the HTTP service).
func waitHTTP(ctx context.Context, hc *http.Client, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := fetchTimed(ctx, hc, url, nil, false)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// timedAnswer is one answer of fetchTimed.
type timedAnswer struct {
	body                []byte // if kept
	etag                string
	bytes               int64
	firstByte, complete time.Duration
}

// fetchTimed GETs url with the header and times it to the answer's
// first byte and to its last; the body is kept only if keep is set. An
// answer other than 200 is an error.
func fetchTimed(ctx context.Context, hc *http.Client, url string, header [][2]string, keep bool) (timedAnswer, error) {
	var a timedAnswer
	var firstByte time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { firstByte = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return a, err
	}
	for _, h := range header {
		req.Header.Set(h[0], h[1])
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	var w io.Writer = io.Discard
	var buf bytes.Buffer
	if keep {
		if resp.ContentLength > 0 {
			buf.Grow(int(resp.ContentLength))
		}
		w = &buf
	}
	a.bytes, err = io.Copy(w, resp.Body)
	a.complete = time.Since(start)
	if err != nil {
		return a, err
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("%s: %s", url, resp.Status)
	}
	a.firstByte = firstByte.Sub(start)
	a.etag = resp.Header.Get("ETag")
	if keep {
		a.body = buf.Bytes()
	}
	return a, nil
}

// loadRound runs one scenario with n clients opt.Runs times against the
// server at addr, whose process is pid.
func loadRound(ctx context.Context, server string, pid int, addr string, sc httpScenario, n int, opt HTTPOptions) HTTPRound {
	rd := HTTPRound{Scenario: sc.name, Server: server, Clients: n}
	for range opt.Runs {
		run := httpRun(ctx, pid, httpload.Options{Addr: addr, URIs: sc.uris, Header: sc.header, Status: sc.status,
			Clients: n, Duration: opt.Round, Timeout: opt.Timeout})
		rd.Runs = append(rd.Runs, run)
		if ctx.Err() != nil {
			break
		}
	}
	rd.summarize()
	return rd
}

// httpRun runs one load and, unless pid is 0, measures the CPU time
// and peak memory of the server's process pid over it.
func httpRun(ctx context.Context, pid int, lo httpload.Options) HTTPRun {
	var w *treeWatch
	var s0 TreeSample
	if pid != 0 {
		s0, _ = SampleTree("/proc", pid)
		w = watchTree(pid)
	}
	r := httpload.Run(ctx, lo)
	run := HTTPRun{Requests: r.Requests, Failed: r.Failed, Secs: r.Elapsed.Seconds(), RPS: r.RequestsPerSecond(),
		BytesPerSec: r.BytesPerSecond(), P50Secs: r.Quantile(0.5).Seconds(), P99Secs: r.Quantile(0.99).Seconds()}
	if r.Err != nil {
		run.Err = r.Err.Error()
	}
	if w != nil {
		p := w.stop()
		s1, _ := SampleTree("/proc", pid)
		run.CPUSecs, run.PeakRSS, run.PeakAnon = (s1.CPU - s0.CPU).Seconds(), p.PeakRSS, p.PeakAnon
	}
	return run
}

// summarize sets the round's figures from its runs.
func (rd *HTTPRound) summarize() {
	var rps, p50, p99, mbs, cpu []float64
	for _, r := range rd.Runs {
		rps, p50, p99 = append(rps, r.RPS), append(p50, r.P50Secs), append(p99, r.P99Secs)
		mbs = append(mbs, r.BytesPerSec/1e6)
		if r.Secs > 0 {
			cpu = append(cpu, r.CPUSecs/r.Secs*100)
		}
		rd.PeakRSS, rd.PeakAnon = max(rd.PeakRSS, r.PeakRSS), max(rd.PeakAnon, r.PeakAnon)
		rd.Failed += r.Failed
		if rd.Err == "" {
			rd.Err = r.Err
		}
	}
	rd.RPS = SpreadOf(rps)
	rd.P50Secs, rd.P99Secs = SpreadOf(p50).Median, SpreadOf(p99).Median
	rd.MBPerSec, rd.CPUPercent = SpreadOf(mbs).Median, SpreadOf(cpu).Median
}

// sessionsLoad connects opt.Sessions RTR sessions to rovd, has each
// fetch the full table, and with them connected runs /json and the
// validity API at once, sampling rovd's memory.
func sessionsLoad(ctx context.Context, s *rtrServer, httpAddr string, validity []string, opt HTTPOptions) *HTTPSessions {
	res := &HTTPSessions{Sessions: opt.Sessions}
	m := s.sample()
	res.RSSBefore, res.AnonBefore = m.RSS, m.Anon
	sess, err := rtrload.Connect(ctx, s.addr, opt.Sessions, 1)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer sess.Close()
	r := sess.Reset(opt.Timeout)
	res.Synced = r.Done
	if r.Err != nil {
		res.Err = r.Err.Error()
	}
	m = s.sample()
	res.RSSSynced, res.AnonSynced = m.RSS, m.Anon
	res.LoadClients = max(1, slices.Max(opt.Clients)/4)
	res.LoadSecs = opt.Round.Seconds()
	w := watchTree(s.cmd.Process.Pid)
	done := make(chan HTTPRun)
	go func() {
		done <- httpRun(ctx, 0, httpload.Options{Addr: httpAddr, URIs: validity, Clients: res.LoadClients,
			Duration: opt.Round, Timeout: opt.Timeout})
	}()
	res.JSON = httpRun(ctx, 0, httpload.Options{Addr: httpAddr, URIs: []string{"/json"}, Clients: res.LoadClients,
		Duration: opt.Round, Timeout: opt.Timeout})
	res.Validity = <-done
	p := w.stop()
	res.PeakRSS, res.PeakAnon = p.PeakRSS, p.PeakAnon
	if res.Err == "" {
		res.Err = cmp.Or(res.JSON.Err, res.Validity.Err)
	}
	return res
}

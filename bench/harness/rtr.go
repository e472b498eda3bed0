package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rovd/rovd/bench/rtrload"
)

// The RTR stage: one VRP set served to many routers at once. rovd runs
// as a relay (rovd server --source), fed the set as JSON by a loopback
// HTTP server of the harness, so that the stage measures RTR alone and
// needs no world of the set's size. StayRTR, when installed, is fed the
// same JSON. Against them stand two references from the same run: a
// bare server that writes one captured full-table response per session
// (the least an RTR server can do, with client and server on the same
// cores) and a raw loopback TCP copy of the same bytes.

// RTROptions configure the RTR stage.
type RTROptions struct {
	// Rovd is the rovd binary; StayRTR the stayrtr binary, "" to leave
	// it out.
	Rovd, StayRTR string
	// Dir is the stage's working directory.
	Dir string
	// VRPs is the size of the set (800,000 in the terms).
	VRPs int
	// Sessions are the numbers of simultaneous Reset Queries to
	// measure; StayRTRSessions the one StayRTR is measured with (it
	// moves some 0.4 M PDUs/s).
	Sessions        []int
	StayRTRSessions int
	// DeltaSessions routers receive a change of DeltaChange VRPs.
	DeltaSessions, DeltaChange int
	// Timeout bounds each round.
	Timeout time.Duration
}

// RTRRound is one round of simultaneous Reset Queries against one server.
type RTRRound struct {
	Server   string // "rovd", "bare", "stayrtr"
	Sessions int
	Done     int
	P50, P99 time.Duration
	Max      time.Duration
	PDUs     int64
	Bytes    int64
	// PDUsPerSec and BytesPerSec are over the round's elapsed time.
	PDUsPerSec, BytesPerSec float64
	// CPU is the server's CPU time during the round (zero for the bare
	// server, which runs in the harness); RSS its resident memory after.
	CPU time.Duration
	RSS int64
	Err string `json:",omitempty"`
}

// RTRResult is the RTR stage's outcome.
type RTRResult struct {
	VRPs int
	// ResponseBytes is the size of one full-table response (version 1).
	ResponseBytes int
	// LoopbackBytesPerSec is the raw loopback TCP copy rate.
	LoopbackBytesPerSec float64
	Rounds              []RTRRound
	// Delta is the change delivered to DeltaSessions sessions: times
	// from the first Serial Notify to each End of Data.
	Delta *RTRRound
	// IdleRSSPerSession is how much rovd's resident memory grew per
	// connected, synced session, in bytes.
	IdleRSSPerSession float64
}

// RunRTR runs the RTR stage.
func RunRTR(ctx context.Context, opt RTROptions) (*RTRResult, error) {
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &RTRResult{VRPs: opt.VRPs}
	feed := newVRPFeed(opt.VRPs)
	hs, err := feed.serve()
	if err != nil {
		return nil, err
	}
	defer hs.Close()

	rovd, err := startRTRServer(ctx, opt.Dir, "rovd", opt.Rovd, func(addr string) []string {
		tals := filepath.Join(opt.Dir, "tals")
		os.MkdirAll(tals, 0o755)
		return []string{"-r", filepath.Join(opt.Dir, "rovd-store"), "-t", tals, "-q", "server",
			"--source", hs.url, "--rtr", addr, "--refresh", "1", "--history", "10"}
	})
	if err != nil {
		return nil, err
	}
	defer rovd.stop()
	resp, err := rovd.waitReady(ctx, opt.Timeout)
	if err != nil {
		return nil, err
	}
	res.ResponseBytes = len(resp)
	if res.LoopbackBytesPerSec, err = rtrload.LoopbackCopy(resp, max(1, (256<<20)/len(resp))); err != nil {
		return nil, fmt.Errorf("loopback copy: %w", err)
	}

	for _, n := range opt.Sessions {
		res.Rounds = append(res.Rounds, rovd.round(ctx, n, opt.Timeout))
	}

	// The bare server, on the same bytes.
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go rtrload.ServeBare(bl, resp)
	bare := &rtrServer{name: "bare", addr: bl.Addr().String()}
	for _, n := range opt.Sessions {
		res.Rounds = append(res.Rounds, bare.round(ctx, n, opt.Timeout))
	}
	bl.Close()

	if opt.StayRTR != "" {
		st, err := startRTRServer(ctx, opt.Dir, "stayrtr", opt.StayRTR, func(addr string) []string {
			return []string{"-bind", addr, "-cache", hs.url, "-checktime=false", "-refresh", "3600",
				"-metrics.addr", freeAddr(), "-log.verbose=false", "-protocol", "1"}
		})
		if err != nil {
			return nil, err
		}
		if _, err := st.waitReady(ctx, opt.Timeout); err != nil {
			st.stop()
			return nil, err
		}
		res.Rounds = append(res.Rounds, st.round(ctx, opt.StayRTRSessions, opt.Timeout))
		st.stop()
	}

	if opt.DeltaSessions > 0 {
		d, perSession, err := rovd.delta(ctx, feed, opt)
		if err != nil {
			return nil, err
		}
		res.Delta, res.IdleRSSPerSession = d, perSession
	}
	return res, nil
}

// rtrServer is a server under test: a child process, or the bare server
// in the harness (cmd nil).
type rtrServer struct {
	name, addr string
	cmd        *exec.Cmd
	log        *os.File
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer l.Close()
	return l.Addr().String()
}

func startRTRServer(ctx context.Context, dir, name, bin string, args func(addr string) []string) (*rtrServer, error) {
	s := &rtrServer{name: name, addr: freeAddr()}
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	s.log = log
	s.cmd = exec.CommandContext(ctx, bin, args(s.addr)...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func (s *rtrServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.log.Close()
}

// waitReady polls until the server answers a Reset Query with a full
// table, and returns that response.
func (s *rtrServer) waitReady(ctx context.Context, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := rtrload.Capture(ctx, s.addr, 1, timeout)
		if err == nil {
			return resp, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("%s never served a full table (see %s): %w", s.name, s.log.Name(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// usage reads the server's CPU time and resident memory.
func (s *rtrServer) usage() (time.Duration, int64) {
	t := s.sample()
	return t.CPU, t.RSS
}

// sample reads the server's process tree: the zero sample for the bare
// server or when it cannot be read.
func (s *rtrServer) sample() TreeSample {
	if s.cmd == nil || s.cmd.Process == nil {
		return TreeSample{}
	}
	t, err := SampleTree("/proc", s.cmd.Process.Pid)
	if err != nil {
		return TreeSample{}
	}
	return t
}

// round measures n simultaneous Reset Queries.
func (s *rtrServer) round(ctx context.Context, n int, timeout time.Duration) RTRRound {
	r := RTRRound{Server: s.name, Sessions: n}
	sess, err := rtrload.Connect(ctx, s.addr, n, 1)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer sess.Close()
	cpu0, _ := s.usage()
	res := sess.Reset(timeout)
	cpu1, rss := s.usage()
	r.fill(res)
	r.CPU, r.RSS = cpu1-cpu0, rss
	return r
}

func (r *RTRRound) fill(res *rtrload.Result) {
	r.Done, r.PDUs, r.Bytes = res.Done, res.PDUs, res.Bytes
	r.P50, r.P99, r.Max = res.Quantile(0.5), res.Quantile(0.99), res.Elapsed
	r.PDUsPerSec, r.BytesPerSec = res.PDUsPerSecond(), res.BytesPerSecond()
	if res.Err != nil {
		r.Err = res.Err.Error()
	}
}

// delta connects the delta sessions, syncs them, changes the feed and
// measures the change's delivery; it also reports rovd's resident
// memory per idle session.
func (s *rtrServer) delta(ctx context.Context, feed *vrpFeed, opt RTROptions) (*RTRRound, float64, error) {
	_, rss0 := s.usage()
	sess, err := rtrload.Connect(ctx, s.addr, opt.DeltaSessions, 1)
	if err != nil {
		return nil, 0, err
	}
	defer sess.Close()
	if r := sess.Reset(opt.Timeout); r.Failed > 0 {
		return nil, 0, fmt.Errorf("delta sessions: full table: %v", r.Err)
	}
	_, rss1 := s.usage()
	perSession := float64(rss1-rss0) / float64(opt.DeltaSessions)
	feed.change(opt.DeltaChange)
	r := &RTRRound{Server: s.name, Sessions: opt.DeltaSessions}
	cpu0, _ := s.usage()
	res := sess.Delta(opt.Timeout + 2*time.Minute) // a Serial Notify may wait out rtrfast's one-minute spacing
	cpu1, rss := s.usage()
	r.fill(res)
	r.CPU, r.RSS = cpu1-cpu0, rss
	return r, perSession, nil
}

// vrpFeed is a VRP set as a JSON document (Routinator's json output),
// which changes on request.
type vrpFeed struct {
	mu   sync.Mutex
	vrps []feedVRP
	doc  []byte
	etag string
	gen  int
}

type feedVRP struct {
	asn    uint32
	prefix netip.Prefix
	maxLen int
}

// newVRPFeed makes n VRPs, a fifth of them IPv6, from a fixed seed.
func newVRPFeed(n int) *vrpFeed {
	rng := rand.New(rand.NewPCG(8, 8))
	seen := make(map[netip.Prefix]bool, n)
	f := &vrpFeed{}
	for len(f.vrps) < n {
		p := randomFeedPrefix(rng)
		if seen[p] {
			continue
		}
		seen[p] = true
		f.vrps = append(f.vrps, feedVRP{asn: 64512 + rng.Uint32N(60000), prefix: p, maxLen: p.Bits()})
	}
	f.render()
	return f
}

// randomFeedPrefix returns a random prefix of the kind a vrpFeed holds:
// an IPv6 /48 in 2001::/16 one time in five, an IPv4 /24 otherwise.
func randomFeedPrefix(rng *rand.Rand) netip.Prefix {
	if rng.IntN(5) == 0 {
		var a [16]byte
		a[0], a[1] = 0x20, 0x01
		for i := 2; i < 6; i++ {
			a[i] = byte(rng.Uint32())
		}
		return netip.PrefixFrom(netip.AddrFrom16(a), 48)
	}
	v := rng.Uint32() &^ 0xff
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
}

// change replaces the first n VRPs' origin AS: n withdrawals and n
// announcements.
func (f *vrpFeed) change(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	for i := range min(n, len(f.vrps)) {
		f.vrps[i].asn += 1
	}
	f.renderLocked()
}

func (f *vrpFeed) render() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renderLocked()
}

func (f *vrpFeed) renderLocked() {
	var b bytes.Buffer
	now := time.Now().UTC()
	fmt.Fprintf(&b, "{\n  \"metadata\": {\n    \"generated\": %d,\n    \"generatedTime\": %q\n  },\n  \"roas\": [\n", now.Unix(), now.Format(time.RFC3339))
	for i, v := range f.vrps {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`    { "asn": "AS`)
		b.WriteString(strconv.FormatUint(uint64(v.asn), 10))
		b.WriteString(`", "prefix": "`)
		b.WriteString(v.prefix.String())
		b.WriteString(`", "maxLength": `)
		b.WriteString(strconv.Itoa(v.maxLen))
		b.WriteString(`, "ta": "bench" }`)
	}
	b.WriteString("\n  ]\n}\n")
	f.doc = b.Bytes()
	sum := sha256.Sum256(f.doc)
	f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
}

type feedServer struct {
	srv *http.Server
	url string
}

func (s *feedServer) Close() { s.srv.Close() }

// serve serves the feed on a loopback port, with ETags.
func (f *vrpFeed) serve() (*feedServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		doc, etag := f.doc, f.etag
		f.mu.Unlock()
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		io.Copy(w, bytes.NewReader(doc))
	})}
	go srv.Serve(l)
	return &feedServer{srv: srv, url: "http://" + l.Addr().String() + "/vrps.json"}, nil
}

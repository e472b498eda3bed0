// Package httpload measures HTTP servers under concurrent load: a fixed
// number of clients, each on a kept-alive connection of its own, send
// requests back to back for a bounded time and count, and every
// request's latency is kept. It also holds the reference a result is
// judged against on the same machine: a bare fasthttp server that
// answers every request with one prebuilt response, in the caller's
// process (StartBare) or in a process of its own (StartBareProcess), as
// the server it is set beside has.
//
// A program linking this package becomes such a bare server process
// when the environment variable ROVD_BENCH_BARE_HTTP is set: the
// package's init serves then and exits, so StartBareProcess can start
// the running program again, a test binary included.
//
// The client side must not be the bottleneck, nor hold what it
// receives: bodies are streamed into a discarding buffer of each
// client's own, so a client asking 64 times at once for a 50 MB answer
// holds 64 small buffers, not 3 GB.
package httpload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Options describe one load round.
type Options struct {
	// Addr is the server, host:port.
	Addr string
	// URIs are the requests' paths with their queries, taken in turn;
	// each client starts at its own place in the list.
	URIs []string
	// Header holds name-value pairs sent with every request.
	Header [][2]string
	// Status is the status every answer must have; 0 means 200.
	Status int
	// Clients is the number of concurrent clients.
	Clients int
	// Duration bounds the round's time and MaxRequests, if not 0, its
	// count of requests; the round ends at the first bound reached.
	Duration    time.Duration
	MaxRequests int
	// Timeout bounds each request; 0 means a minute.
	Timeout time.Duration
}

// Result is one load round.
type Result struct {
	Clients int
	// Requests counts the answers received with the status wanted,
	// Failed the others (with the first error in Err).
	Requests, Failed int64
	Err              error
	// Bytes counts the bodies of the answers, as sent (compressed,
	// where the server compressed).
	Bytes int64
	// Elapsed is the round's time, from its start to the last answer.
	Elapsed time.Duration
	// Latencies are the times of the requests answered, sorted.
	Latencies []time.Duration
}

// Quantile returns the latency below which a share q of the requests
// were answered.
func (r *Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[int(q*float64(len(r.Latencies)-1))]
}

// RequestsPerSecond is the answers received over the round's time.
func (r *Result) RequestsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// BytesPerSecond is the body bytes received over the round's time.
func (r *Result) BytesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Elapsed.Seconds()
}

// discardBuffer is each client's buffer for the bodies it throws away.
const discardBuffer = 64 << 10

// Run runs one load round. It stops early, with what it measured so
// far, when ctx is done.
func Run(ctx context.Context, opt Options) *Result {
	res := &Result{Clients: opt.Clients}
	if opt.Clients <= 0 || len(opt.URIs) == 0 {
		res.Err = errors.New("httpload: no clients or no URIs")
		return res
	}
	want := opt.Status
	if want == 0 {
		want = fasthttp.StatusOK
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	hc := &fasthttp.HostClient{
		Addr: opt.Addr, MaxConns: opt.Clients, MaxConnWaitTimeout: timeout,
		ReadTimeout: timeout, WriteTimeout: timeout, StreamResponseBody: true,
		NoDefaultUserAgentHeader: true,
	}
	defer hc.CloseIdleConnections()

	type client struct {
		times         []time.Duration
		bytes, failed int64
		err           error
	}
	clients := make([]client, opt.Clients)
	uris := make([]string, len(opt.URIs))
	for i, u := range opt.URIs {
		uris[i] = "http://" + opt.Addr + u
	}
	var issued atomic.Int64
	start := time.Now()
	deadline := start.Add(opt.Duration)
	var wg sync.WaitGroup
	for i := range clients {
		c := &clients[i]
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			buf := make([]byte, discardBuffer)
			next := i * len(uris) / opt.Clients
			for ctx.Err() == nil && time.Now().Before(deadline) &&
				(opt.MaxRequests <= 0 || issued.Add(1) <= int64(opt.MaxRequests)) {
				req.Reset()
				req.SetRequestURI(uris[next%len(uris)])
				next++
				for _, h := range opt.Header {
					req.Header.Set(h[0], h[1])
				}
				t0 := time.Now()
				n, status, err := do(hc, req, resp, buf, timeout)
				d := time.Since(t0)
				c.bytes += n
				if err == nil && status != want {
					err = fmt.Errorf("%s: status %d, want %d", req.URI().RequestURI(), status, want)
				}
				if err != nil {
					c.failed++
					if c.err == nil {
						c.err = err
					}
					continue
				}
				c.times = append(c.times, d)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	for i := range clients {
		c := &clients[i]
		res.Requests += int64(len(c.times))
		res.Failed += c.failed
		res.Bytes += c.bytes
		res.Latencies = append(res.Latencies, c.times...)
		if res.Err == nil {
			res.Err = c.err
		}
	}
	slices.Sort(res.Latencies)
	return res
}

// do sends one request and reads the answer's body into buf, over and
// over, returning the body's size and the status.
func do(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, buf []byte, timeout time.Duration) (int64, int, error) {
	if err := hc.DoTimeout(req, resp, timeout); err != nil {
		return 0, 0, err
	}
	status := resp.StatusCode()
	body := resp.BodyStream()
	if body == nil {
		return int64(len(resp.Body())), status, nil
	}
	var n int64
	for {
		k, err := body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			resp.CloseBodyStream()
			return n, status, err
		}
	}
	return n, status, resp.CloseBodyStream()
}

// Response is the bare server's prebuilt answer.
type Response struct {
	Body                    []byte
	ContentType, ContentEnc string
	// ETag, if not empty, is sent with the answer; a request whose
	// If-None-Match equals it gets 304 Not Modified.
	ETag string
}

// Bare is a bare fasthttp server on loopback that answers every GET
// with one prebuilt Response, the least an HTTP server can do for the
// same answer: what it reaches is the bound of a server that has its
// answer ready.
type Bare struct {
	srv  *fasthttp.Server
	l    net.Listener
	resp atomic.Pointer[Response]
	done chan error
}

// StartBare starts a bare server on a free port of 127.0.0.1 answering
// with resp.
func StartBare(resp Response) (*Bare, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Bare{l: l, done: make(chan error, 1)}
	b.resp.Store(&resp)
	b.srv = &fasthttp.Server{Handler: b.handle, Name: "bare", NoDefaultDate: true, NoDefaultContentType: true,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute}
	go func() { b.done <- b.srv.Serve(l) }()
	return b, nil
}

// Addr returns the server's address, host:port.
func (b *Bare) Addr() string { return b.l.Addr().String() }

// Set makes resp the answer to the requests that follow.
func (b *Bare) Set(resp Response) { b.resp.Store(&resp) }

// Close stops the server and closes its connections.
func (b *Bare) Close() error {
	err := b.srv.Shutdown()
	if serr := <-b.done; err == nil {
		err = serr
	}
	return err
}

func (b *Bare) handle(ctx *fasthttp.RequestCtx) {
	r := b.resp.Load()
	if r.ETag != "" {
		ctx.Response.Header.Set("ETag", r.ETag)
		if string(ctx.Request.Header.Peek("If-None-Match")) == r.ETag {
			ctx.SetStatusCode(fasthttp.StatusNotModified)
			return
		}
	}
	if r.ContentType != "" {
		ctx.SetContentType(r.ContentType)
	}
	if r.ContentEnc != "" {
		ctx.Response.Header.Set("Content-Encoding", r.ContentEnc)
	}
	// The body is shared, not copied, as rovd serves its prebuilt
	// answers.
	ctx.Response.SetBodyRaw(r.Body)
}

// bareEnv, set in a process's environment, makes any program that links
// this package a bare server (see StartBareProcess) instead of itself.
const bareEnv = "ROVD_BENCH_BARE_HTTP"

func init() {
	if os.Getenv(bareEnv) != "" {
		if err := serveBareProcess(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bare server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// bareHeader is what StartBareProcess sends the child before the body.
type bareHeader struct {
	ContentType, ContentEnc, ETag string
	BodyLen                       int
}

// BareProcess is a bare server in a process of its own: measured beside
// rovd, which has one too, it shares no Go runtime with the clients.
type BareProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// StartBareProcess starts the running program again as a bare server
// answering with resp, on a free port of 127.0.0.1. The program must
// link this package, whose init turns the child into the server; the
// child stops when Close closes its standard input.
func StartBareProcess(ctx context.Context, resp Response) (*BareProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), bareEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &BareProcess{cmd: cmd, stdin: stdin}
	hdr, _ := json.Marshal(bareHeader{resp.ContentType, resp.ContentEnc, resp.ETag, len(resp.Body)}) // plain strings and an int
	_, err = stdin.Write(append(hdr, '\n'))
	if err == nil {
		_, err = stdin.Write(resp.Body)
	}
	if err == nil {
		p.addr, err = bufio.NewReader(stdout).ReadString('\n')
		p.addr = strings.TrimSpace(p.addr)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("bare server process: %w", err)
	}
	return p, nil
}

// Addr returns the server's address, host:port.
func (p *BareProcess) Addr() string { return p.addr }

// Pid returns the server's process ID.
func (p *BareProcess) Pid() int { return p.cmd.Process.Pid }

// Close stops the server, killing it if it has not ended within ten
// seconds.
func (p *BareProcess) Close() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		return <-done
	}
}

// serveBareProcess is the child of StartBareProcess: it reads the
// answer from in, serves it and writes its address to out, until in
// ends.
func serveBareProcess(in io.Reader, out io.Writer) error {
	br := bufio.NewReader(in)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return err
	}
	var h bareHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return err
	}
	if h.BodyLen < 0 || h.BodyLen > maxBareBody {
		return fmt.Errorf("body of %d bytes", h.BodyLen)
	}
	body := make([]byte, h.BodyLen)
	if _, err := io.ReadFull(br, body); err != nil {
		return err
	}
	b, err := StartBare(Response{Body: body, ContentType: h.ContentType, ContentEnc: h.ContentEnc, ETag: h.ETag})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(out, b.Addr()); err != nil {
		b.Close()
		return err
	}
	_, _ = io.Copy(io.Discard, br) // until the parent closes our input
	return b.Close()
}

// maxBareBody bounds the answer a bare server process takes: several
// times the /json of a global set.
const maxBareBody = 1 << 30

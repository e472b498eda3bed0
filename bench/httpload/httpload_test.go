package httpload_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/httpload"
)

func TestRun(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: streamed, not held
	tests := []struct {
		name     string
		resp     httpload.Response
		opt      httpload.Options
		requests int64
		failed   bool
		bytes    int64
	}{
		{"small answers", httpload.Response{Body: []byte(`{"ok":true}`), ContentType: "application/json"},
			httpload.Options{URIs: []string{"/a", "/b?x=1"}, Clients: 4, MaxRequests: 200}, 200, false, 200 * 11},
		{"large answer", httpload.Response{Body: big},
			httpload.Options{URIs: []string{"/json"}, Clients: 3, MaxRequests: 6}, 6, false, 6 * int64(len(big))},
		{"not modified", httpload.Response{Body: big, ETag: `"1-2"`},
			httpload.Options{URIs: []string{"/json"}, Header: [][2]string{{"If-None-Match", `"1-2"`}}, Status: 304, Clients: 2, MaxRequests: 50}, 50, false, 0},
		{"another status fails", httpload.Response{Body: big, ETag: `"1-2"`},
			httpload.Options{URIs: []string{"/json"}, Header: [][2]string{{"If-None-Match", `"1-2"`}}, Clients: 2, MaxRequests: 10}, 0, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := httpload.StartBare(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			tc.opt.Addr = b.Addr()
			tc.opt.Duration = 30 * time.Second // MaxRequests ends the round first
			tc.opt.Timeout = 10 * time.Second
			r := httpload.Run(context.Background(), tc.opt)
			if r.Requests != tc.requests || (r.Failed > 0) != tc.failed || r.Bytes != tc.bytes {
				t.Errorf("requests %d, failed %d (%v), bytes %d; want %d, failed %v, bytes %d",
					r.Requests, r.Failed, r.Err, r.Bytes, tc.requests, tc.failed, tc.bytes)
			}
			if int64(len(r.Latencies)) != r.Requests || (r.Requests > 0 && (r.Quantile(0.99) < r.Quantile(0.5) || r.RequestsPerSecond() <= 0)) {
				t.Errorf("latencies %d, p50 %v, p99 %v, %v req/s", len(r.Latencies), r.Quantile(0.5), r.Quantile(0.99), r.RequestsPerSecond())
			}
		})
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	b, err := httpload.StartBare(httpload.Response{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := httpload.Run(context.Background(), httpload.Options{Addr: b.Addr(), URIs: []string{"/"}, Clients: 2, Duration: 50 * time.Millisecond})
	if r.Requests == 0 || r.Failed != 0 {
		t.Errorf("%d requests, %d failed (%v)", r.Requests, r.Failed, r.Err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	b, err := httpload.StartBare(httpload.Response{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httpload.Run(ctx, httpload.Options{Addr: b.Addr(), URIs: []string{"/"}, Clients: 2, Duration: time.Hour})
	if r.Requests != 0 {
		t.Errorf("%d requests after cancelling", r.Requests)
	}
}

func TestBareSet(t *testing.T) {
	b, err := httpload.StartBare(httpload.Response{Body: []byte("one")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Set(httpload.Response{Body: []byte("three"), ContentEnc: "gzip"})
	r := httpload.Run(context.Background(), httpload.Options{Addr: b.Addr(), URIs: []string{"/"}, Clients: 1, MaxRequests: 3, Duration: 30 * time.Second})
	if r.Bytes != 15 {
		t.Errorf("%d bytes, want 15 (%v)", r.Bytes, r.Err)
	}
}

// TestBareProcess starts this test binary again as a bare server.
func TestBareProcess(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100_000)
	p, err := httpload.StartBareProcess(context.Background(), httpload.Response{Body: body, ContentType: "text/plain", ETag: `"7"`})
	if err != nil {
		t.Fatal(err)
	}
	r := httpload.Run(context.Background(), httpload.Options{Addr: p.Addr(), URIs: []string{"/"}, Clients: 2, MaxRequests: 10, Duration: 30 * time.Second})
	r304 := httpload.Run(context.Background(), httpload.Options{Addr: p.Addr(), URIs: []string{"/"}, Header: [][2]string{{"If-None-Match", `"7"`}},
		Status: 304, Clients: 1, MaxRequests: 3, Duration: 30 * time.Second})
	if p.Pid() <= 0 {
		t.Errorf("pid %d", p.Pid())
	}
	if err := p.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if r.Requests != 10 || r.Bytes != 10*int64(len(body)) || r304.Requests != 3 {
		t.Errorf("%d requests, %d bytes (%v); %d not modified (%v)", r.Requests, r.Bytes, r.Err, r304.Requests, r304.Err)
	}
}

package sockstat_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rovd/rovd/appliance/internal/selfsigned"
	"github.com/rovd/rovd/appliance/sockstat"
)

func TestInfoOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		ti   unix.TCPInfo
		want sockstat.Info
	}{
		{"idle", unix.TCPInfo{Rtt: 1500, Bytes_sent: 1000, Bytes_acked: 1000},
			sockstat.Info{RTT: 1500 * time.Microsecond}},
		{"in flight", unix.TCPInfo{Rtt: 20000, Bytes_sent: 5000, Bytes_acked: 3000},
			sockstat.Info{RTT: 20 * time.Millisecond, BytesInFlight: 2000}},
		{"retransmitted bytes are not in flight twice", unix.TCPInfo{Rtt: 20000, Total_retrans: 2, Bytes_sent: 7000, Bytes_retrans: 2000, Bytes_acked: 3000},
			sockstat.Info{RTT: 20 * time.Millisecond, Retransmits: 2, BytesInFlight: 2000}},
		{"a FIN acknowledged beyond the data", unix.TCPInfo{Bytes_sent: 1000, Bytes_acked: 1001},
			sockstat.Info{}},
		{"kernel before 4.19: segments in flight at full size", unix.TCPInfo{Rtt: 300, Unacked: 3, Snd_mss: 1448, Bytes_acked: 100},
			sockstat.Info{RTT: 300 * time.Microsecond, BytesInFlight: 3 * 1448}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sockstat.InfoOf(&tc.ti); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// pair returns both ends of a loopback TCP connection to l: the one l
// accepted and the dialled one.
func pair(t testing.TB, l net.Listener) (server, client net.Conn) {
	t.Helper()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		ch <- accepted{c, err}
	}()
	client, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		client.Close()
		t.Fatal(a.err)
	}
	t.Cleanup(func() { a.c.Close(); client.Close() })
	return a.c, client
}

func listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// exchange has server send n octets that client reads, so that the
// server's end takes RTT samples from the client's acknowledgements.
func exchange(t testing.TB, server, client net.Conn, n int) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := server.Write(bytes.Repeat([]byte{'x'}, n))
		done <- err
	}()
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTCPInfo reads a live loopback connection through the fallback,
// plain and under TLS.
func TestTCPInfo(t *testing.T) {
	c := sockstat.Open(sockstat.Options{TCPInfoOnly: true})
	defer c.Close()
	if m := c.Method(); m != sockstat.MethodTCPInfo {
		t.Fatalf("method %s", m)
	}
	const n = 256 << 10
	server, client := pair(t, listen(t, "tcp", "127.0.0.1:0"))
	exchange(t, server, client, n)
	info, err := c.Stat(server)
	if err != nil {
		t.Fatal(err)
	}
	if info.RTT <= 0 || info.BytesInFlight > n {
		t.Errorf("after %d octets: %+v", n, info)
	}

	// A TLS connection is read through to its TCP connection.
	cert, _, _ := selfsigned.Loopback(t)
	tl := tls.NewListener(listen(t, "tcp", "127.0.0.1:0"), &tls.Config{Certificates: []tls.Certificate{cert}})
	ts, tc := pair(t, tl)
	tcl := tls.Client(tc, &tls.Config{InsecureSkipVerify: true})
	go func() { _, _ = ts.Write([]byte("hello")) }() // the handshake runs within the write and read
	_ = tcl.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(tcl, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	if info, err := c.Stat(ts); err != nil || info.RTT <= 0 {
		t.Errorf("TLS connection: %+v, %v", info, err)
	}
}

func TestNotTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for _, opt := range []sockstat.Options{{TCPInfoOnly: true}, {}} {
		c := sockstat.Open(opt)
		if _, err := c.Stat(a); !errors.Is(err, sockstat.ErrNotSupported) {
			t.Errorf("%s: Stat of a pipe: %v, want ErrNotSupported", c.Method(), err)
		}
		c.Close()
	}
}

// TestFallback: when the program cannot be attached, Open says so once
// in the log and serves TCP_INFO.
func TestFallback(t *testing.T) {
	var logged bytes.Buffer
	c := sockstat.Open(sockstat.Options{Cgroup: t.TempDir() + "/no-such-cgroup", Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	defer c.Close()
	if m := c.Method(); m != sockstat.MethodTCPInfo {
		t.Fatalf("method %s", m)
	}
	if lines := strings.Count(logged.String(), "\n"); lines != 1 || !strings.Contains(logged.String(), "TCP_INFO") {
		t.Errorf("log: %q", logged.String())
	}
	l := listen(t, "tcp", "127.0.0.1:0")
	if err := c.Watch(l); err != nil {
		t.Errorf("Watch: %v", err)
	}
	server, client := pair(t, l)
	exchange(t, server, client, 1000)
	if info, err := c.Stat(server); err != nil || info.RTT <= 0 {
		t.Errorf("Stat: %+v, %v", info, err)
	}
	if logged.Len() != 0 && strings.Count(logged.String(), "\n") != 1 {
		t.Errorf("more was logged: %q", logged.String())
	}
}

// openEBPF returns a Collector on eBPF, or skips the test saying why it
// cannot be had here.
func openEBPF(t testing.TB) *sockstat.Collector {
	t.Helper()
	if err := sockstat.ProbeError(); err != nil {
		t.Skipf("eBPF socket stats unavailable here (needs CAP_BPF and CAP_NET_ADMIN, cgroup v2 and a kernel from 5.10): %v", err)
	}
	c := sockstat.Open(sockstat.Options{})
	if c.Method() != sockstat.MethodEBPF {
		t.Fatal("the program loaded once, then not")
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recorded waits, a bounded while, until the program has (or, if want
// is false, no longer has) an entry for conn.
func recorded(t *testing.T, c *sockstat.Collector, conn net.Conn, want bool) {
	t.Helper()
	for range 200 {
		ok, err := c.Recorded(conn)
		if err != nil {
			t.Fatal(err)
		}
		if ok == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("entry of %s recorded: want %v", conn.RemoteAddr(), want)
}

// TestEBPF reads connections through the sockops program, over IPv4,
// IPv6 and IPv4 to a dual-stack listener, and checks that entries go
// with their connections.
func TestEBPF(t *testing.T) {
	c := openEBPF(t)
	for _, tc := range []struct{ name, listen, dial string }{
		{"IPv4", "127.0.0.1:0", ""},
		{"IPv6", "[::1]:0", ""},
		{"IPv4 to a dual-stack listener", "[::]:0", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := listen(t, "tcp", tc.listen)
			if tc.dial != "" {
				_, port, _ := net.SplitHostPort(l.Addr().String())
				l = dialAddr{l, net.JoinHostPort(tc.dial, port)}
			}
			// Accepted before the port is watched: read with TCP_INFO.
			early, earlyClient := pair(t, l)
			if err := c.Watch(l); err != nil {
				t.Fatal(err)
			}
			server, client := pair(t, l)
			exchange(t, server, client, 64<<10)
			recorded(t, c, server, true)
			info, err := c.Stat(server)
			if err != nil || info.RTT <= 0 || info.BytesInFlight > 64<<10 {
				t.Errorf("Stat: %+v, %v", info, err)
			}
			if ok, _ := c.Recorded(early); ok {
				t.Error("a connection accepted before Watch was recorded")
			}
			exchange(t, early, earlyClient, 1000)
			if info, err := c.Stat(early); err != nil || info.RTT <= 0 {
				t.Errorf("Stat of an unrecorded connection: %+v, %v", info, err)
			}
			// The entry goes when the connection closes.
			server.Close()
			client.Close()
			recorded(t, c, server, false)
		})
	}
}

// dialAddr is a listener whose Addr is the address to dial it on.
type dialAddr struct {
	net.Listener
	addr string
}

func (d dialAddr) Addr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", d.addr)
	return a
}

// TestEBPFFails: a map that can no longer be read (as after a daemon
// gave up its privileges on an older kernel) has the Collector fall back
// to TCP_INFO, saying so once.
func TestEBPFFails(t *testing.T) {
	if err := sockstat.ProbeError(); err != nil {
		t.Skipf("eBPF socket stats unavailable here: %v", err)
	}
	var logged bytes.Buffer
	c := sockstat.Open(sockstat.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	defer c.Close()
	l := listen(t, "tcp", "127.0.0.1:0")
	server, client := pair(t, l)
	exchange(t, server, client, 1000)
	c.BreakMaps()
	for range 2 {
		if info, err := c.Stat(server); err != nil || info.RTT <= 0 {
			t.Errorf("Stat: %+v, %v", info, err)
		}
	}
	if err := c.Watch(l); err != nil {
		t.Errorf("Watch: %v", err)
	}
	if m := c.Method(); m != sockstat.MethodTCPInfo {
		t.Errorf("method %s after the map failed", m)
	}
	if n := strings.Count(logged.String(), "\n"); n != 1 || !strings.Contains(logged.String(), "TCP_INFO from now on") {
		t.Errorf("log: %q", logged.String())
	}
}

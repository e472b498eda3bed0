//go:build linux

package listen_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rovd/rovd/appliance/internal/selfsigned"
	"github.com/rovd/rovd/appliance/listen"
	"github.com/rovd/rovd/netio/sdtest"
)

func TestMain(m *testing.M) {
	sdtest.Main(m, systemdChild)
}

type childReport struct {
	Err       string
	RTR, HTTP []string // addresses
}

// systemdChild prepares and opens the listeners with listen-systemd and
// prints where RTR and HTTP listen, as JSON on one line.
func systemdChild() int {
	var rep childReport
	ls, err := listen.Prepare(listen.Options{Systemd: true, KeepAlive: time.Minute})
	if err == nil {
		for _, l := range ls.HTTP() {
			rep.HTTP = append(rep.HTTP, l.Addr().String())
		}
		var rtr []net.Listener
		if rtr, err = ls.Open(); err == nil {
			for _, l := range rtr {
				rep.RTR = append(rep.RTR, l.Addr().String())
			}
		}
		ls.Close()
	}
	if err != nil {
		rep.Err = err.Error()
	}
	sdtest.Print(rep)
	return 0
}

// activate runs the test binary as a socket-activated child with files
// under names and returns its report.
func activate(t *testing.T, files []*os.File, names string) childReport {
	t.Helper()
	child := sdtest.Start(t, files, true, fmt.Sprintf("LISTEN_FDS=%d", len(files)), "LISTEN_FDNAMES="+names)
	var rep childReport
	child.Report(t, &rep)
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	return rep
}

// TestSystemd passes three sockets, one named http: the other two serve
// RTR, the http one is left for the HTTP service. A UDP socket is an
// error unless nothing else is wrong.
func TestSystemd(t *testing.T) {
	a, aAddr := sdtest.Socket(t, unix.SOCK_STREAM)
	h, hAddr := sdtest.Socket(t, unix.SOCK_STREAM)
	b, bAddr := sdtest.Socket(t, unix.SOCK_STREAM)
	rep := activate(t, []*os.File{a, h, b}, "rovd-rtr.socket:http:rtr2")
	if rep.Err != "" || strings.Join(rep.RTR, " ") != aAddr+" "+bAddr || strings.Join(rep.HTTP, " ") != hAddr {
		t.Errorf("error %q, RTR %v, HTTP %v; want RTR %s %s, HTTP %s", rep.Err, rep.RTR, rep.HTTP, aAddr, bAddr, hAddr)
	}

	u, _ := sdtest.Socket(t, unix.SOCK_DGRAM)
	rep = activate(t, []*os.File{a, u}, "rtr:udp")
	if !strings.Contains(rep.Err, `listen-systemd: systemd sockets: descriptor 4 ("udp"): not a listening stream socket`) {
		t.Errorf("UDP socket: error %q", rep.Err)
	}

	rep = activate(t, nil, "")
	if !strings.Contains(rep.Err, "listen-systemd: ") {
		t.Errorf("no sockets: error %q", rep.Err)
	}
}

// TestOpen listens on IPv4 and IPv6 loopback and checks that accepted
// connections carry the keepalive setting.
func TestOpen(t *testing.T) {
	addrs := []string{"127.0.0.1:0"}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		addrs = append(addrs, "[::1]:0")
	} else {
		t.Logf("no IPv6 loopback: %v", err)
	}
	ls, err := listen.Prepare(listen.Options{RTR: addrs, KeepAlive: 42 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	rtr, err := ls.Open()
	if err != nil {
		t.Fatal(err)
	}
	if len(rtr) != len(addrs) {
		t.Fatalf("%d listeners for %v", len(rtr), addrs)
	}
	for _, l := range rtr {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := s.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var idle int
		var gerr error
		rc.Control(func(fd uintptr) { idle, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE) })
		if gerr != nil || idle != 42 {
			t.Errorf("%s: TCP_KEEPIDLE %d, %v; want 42", l.Addr(), idle, gerr)
		}
		s.Close()
		c.Close()
	}
	if err := ls.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := rtr[0].Accept(); err == nil {
		t.Error("listener open after Close")
	}
}

func TestOpenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ls, err := listen.Prepare(listen.Options{RTR: []string{"127.0.0.1:0", busy.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Open(); err == nil || !strings.Contains(err.Error(), "rtr-listen "+busy.Addr().String()) {
		t.Errorf("address in use: %v", err)
	}
	dir := t.TempDir()
	if _, err := listen.Prepare(listen.Options{RTRTLS: []string{"127.0.0.1:0"}, TLSKey: filepath.Join(dir, "k"), TLSCert: filepath.Join(dir, "c")}); err == nil ||
		!strings.Contains(err.Error(), "rtr-tls-cert "+filepath.Join(dir, "c")) {
		t.Errorf("missing certificate: %v", err)
	}
}

// TestBind binds early: a connection made before Open waits in the
// backlog and is accepted from the listener Open hands out; Close closes
// it. A busy address fails Bind and leaves nothing bound.
func TestBind(t *testing.T) {
	ls, err := listen.Prepare(listen.Options{RTR: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if err := ls.Bind(); err != nil {
		t.Fatal(err)
	}
	if err := ls.Bind(); err != nil { // a second Bind keeps the first
		t.Fatal(err)
	}
	rtr, err := ls.Open()
	if err != nil || len(rtr) != 1 {
		t.Fatalf("Open after Bind: %d listeners, %v", len(rtr), err)
	}
	c, err := net.Dial("tcp", rtr[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := rtr[0].Accept()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := ls.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := rtr[0].Accept(); err == nil {
		t.Error("listener open after Close")
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	ls, err = listen.Prepare(listen.Options{RTR: []string{freeAddr, busy.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Bind(); err == nil || !strings.Contains(err.Error(), "rtr-listen "+busy.Addr().String()) {
		t.Errorf("address in use: %v", err)
	}
	if l, err := net.Listen("tcp", freeAddr); err != nil {
		t.Errorf("%s still bound after a failed Bind: %v", freeAddr, err)
	} else {
		l.Close()
	}
}

// TestTLS completes a TLS handshake with an RTR TLS listener and
// exchanges bytes over it.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfsigned.LoopbackFiles(t)
	ls, err := listen.Prepare(listen.Options{RTR: []string{"127.0.0.1:0"}, RTRTLS: []string{"127.0.0.1:0"}, TLSCert: certFile, TLSKey: keyFile, KeepAlive: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	rtr, err := ls.Open()
	if err != nil || len(rtr) != 2 {
		t.Fatalf("%d listeners, %v", len(rtr), err)
	}
	l := rtr[1] // plain first, TLS after
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			done <- err
			return
		}
		_, err = c.Write(buf)
		done <- err
	}()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Errorf("echo %q, %v", buf, err)
	}
	if err := <-done; err != nil {
		t.Errorf("server side: %v", err)
	}
	if v := c.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("TLS version %x", v)
	}
}

//go:build linux

package netio_test

import (
	"errors"
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

	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/netio/sdtest"
)

func TestMain(m *testing.M) {
	sdtest.Main(m, systemdChild)
}

// childReport is what the child process prints: what SystemdListeners
// returned and what it left in the environment.
type childReport struct {
	Err       string
	Listeners []struct{ Name, Addr, Network string }
	Env       []string // LISTEN_* variables left set
}

// systemdChild takes the passed sockets, prints a childReport as one
// line, then accepts one connection on each listener and writes the
// listener's name to it.
func systemdChild() int {
	ls, err := netio.SystemdListeners()
	var rep childReport
	if err != nil {
		rep.Err = err.Error()
		if errors.Is(err, netio.ErrNotActivated) {
			rep.Err = "not activated"
		}
	}
	for _, l := range ls {
		rep.Listeners = append(rep.Listeners, struct{ Name, Addr, Network string }{l.Name, l.Addr().String(), l.Addr().Network()})
	}
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if v, ok := os.LookupEnv(k); ok {
			rep.Env = append(rep.Env, k+"="+v)
		}
	}
	sdtest.Print(rep)
	for _, l := range ls {
		if tl, ok := l.Listener.(*net.TCPListener); ok {
			tl.SetDeadline(time.Now().Add(time.Minute))
		}
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		io.WriteString(c, l.Name)
		c.Close()
	}
	return 0
}

func nonBlocking(t *testing.T, f *os.File) bool {
	t.Helper()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.O_NONBLOCK != 0
}

// TestSystemdListeners passes two TCP sockets named rtr and http to a
// child as systemd would: it gets both under their names, the
// environment is cleared, the sockets are non-blocking and accept.
func TestSystemdListeners(t *testing.T) {
	rtr, rtrAddr := sdtest.Socket(t, unix.SOCK_STREAM)
	http, httpAddr := sdtest.Socket(t, unix.SOCK_STREAM)
	if nonBlocking(t, rtr) {
		t.Fatal("the test socket is non-blocking already")
	}
	child := sdtest.Start(t, []*os.File{rtr, http}, true, "LISTEN_FDS=2", "LISTEN_FDNAMES=rtr:http")
	var rep childReport
	child.Report(t, &rep)
	if rep.Err != "" || len(rep.Env) > 0 {
		t.Fatalf("error %q, environment left %v", rep.Err, rep.Env)
	}
	want := []struct{ Name, Addr, Network string }{{"rtr", rtrAddr, "tcp"}, {"http", httpAddr, "tcp"}}
	if fmt.Sprint(rep.Listeners) != fmt.Sprint(want) {
		t.Errorf("listeners %v, want %v", rep.Listeners, want)
	}
	// The child's descriptors share the open file description with ours.
	if !nonBlocking(t, rtr) || !nonBlocking(t, http) {
		t.Error("the passed sockets were not made non-blocking")
	}
	for _, l := range want {
		c, err := net.DialTimeout("tcp", l.Addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Minute))
		name, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(name) != l.Name {
			t.Errorf("%s answered %q, %v; want %q", l.Addr, name, err, l.Name)
		}
	}
	if err := child.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
}

func TestSystemdListenersRejected(t *testing.T) {
	tests := []struct {
		name   string
		udp    bool
		ownPID bool
		env    []string
		want   string // in the error
	}{
		{"meant for another process", false, false, []string{"LISTEN_PID=1", "LISTEN_FDS=1"}, "not activated"},
		{"nothing passed", false, false, nil, "not activated"},
		{"UDP socket", true, true, []string{"LISTEN_FDS=1"}, `descriptor 3 (""): not a listening stream socket`},
		{"names do not match", false, true, []string{"LISTEN_FDS=1", "LISTEN_FDNAMES=a:b"}, "LISTEN_FDNAMES names 2 sockets, LISTEN_FDS says 1"},
		{"bad count", false, true, []string{"LISTEN_FDS=many"}, `LISTEN_FDS="many" is not a count`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := unix.SOCK_STREAM
			if tc.udp {
				typ = unix.SOCK_DGRAM
			}
			f, _ := sdtest.Socket(t, typ)
			// The test process may have been started with these set.
			env := append([]string{"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES="}, tc.env...)
			child := sdtest.Start(t, []*os.File{f}, tc.ownPID, env...)
			var rep childReport
			child.Report(t, &rep)
			if !strings.Contains(rep.Err, tc.want) || len(rep.Listeners) > 0 || len(rep.Env) > 0 {
				t.Errorf("error %q, want %q; %d listeners; environment left %v", rep.Err, tc.want, len(rep.Listeners), rep.Env)
			}
			if err := child.Wait(); err != nil {
				t.Errorf("child: %v", err)
			}
		})
	}
}

// TestKeepAlive checks the options of accepted connections with
// getsockopt.
func TestKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		idle    time.Duration
		on      int
		seconds int // TCP_KEEPIDLE, when on
	}{
		{37 * time.Second, 1, 37},
		{1500 * time.Millisecond, 1, 2},
		{0, 0, 0},
	} {
		t.Run(tc.idle.String(), func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := netio.KeepAlive(raw, tc.idle, nil)
			defer l.Close()
			client, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rc, err := c.(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var on, idle int
			var oerr, ierr error
			rc.Control(func(fd uintptr) {
				on, oerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE)
				idle, ierr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
			})
			if oerr != nil || ierr != nil {
				t.Fatal(oerr, ierr)
			}
			if on != tc.on || tc.on == 1 && idle != tc.seconds {
				t.Errorf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d; want %d, %d", on, idle, tc.on, tc.seconds)
			}
		})
	}
}

// errListener fails its first Accepts with the errors given.
type errListener struct {
	net.Listener
	errs []error
}

func (e *errListener) Accept() (net.Conn, error) {
	if len(e.errs) > 0 {
		err := e.errs[0]
		e.errs = e.errs[1:]
		return nil, err
	}
	return e.Listener.Accept()
}

// TestKeepAliveAcceptErrors checks that accept errors come through
// unchanged, so that the server can survive the temporary ones, and
// that accepting goes on after them.
func TestKeepAliveAcceptErrors(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	aborted := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}
	l := netio.KeepAlive(&errListener{Listener: raw, errs: []error{emfile, aborted}}, time.Minute, nil)
	defer l.Close()
	for _, want := range []error{emfile, aborted} {
		if _, err := l.Accept(); err != want {
			t.Errorf("accept error %v, want %v unchanged", err, want)
		}
	}
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("accept after errors: %v", err)
	}
	c.Close()
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept on a closed listener: %v", err)
	}
}

func TestSDNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := netio.SDNotify("READY=1"); err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v", err)
	}
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	for _, state := range []string{"READY=1", "STOPPING=1"} {
		if err := netio.SDNotify(state); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != state {
			t.Errorf("received %q, %v; want %q", buf[:n], err, state)
		}
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "none"))
	if err := netio.SDNotify("READY=1"); err == nil || !strings.Contains(err.Error(), "NOTIFY_SOCKET") {
		t.Errorf("a missing socket: %v", err)
	}
}

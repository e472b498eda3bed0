package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/rtrfast"
)

// poll is the interval of the tests' bounded polling loops.
const poll = 50 * time.Millisecond

var rovdBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildRovd builds the rovd binary once for the tests that run it as a
// separate process; TestMain removes it.
func buildRovd(t *testing.T) string {
	t.Helper()
	rovdBinary.once.Do(func() {
		// go test puts its own go first in $PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			rovdBinary.err = fmt.Errorf("no go tool to build rovd with: %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "rovd-cli-bin")
		if err != nil {
			rovdBinary.err = err
			return
		}
		rovdBinary.dir = dir
		path := filepath.Join(dir, "rovd")
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", path, "./cmd/rovd")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "HOME="+realHome)
		if out, err := cmd.CombinedOutput(); err != nil {
			rovdBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		// The daemon under --user must be able to run it.
		if err := os.Chmod(dir, 0o755); err != nil {
			rovdBinary.err = err
			return
		}
		rovdBinary.path = path
	})
	if rovdBinary.err != nil {
		t.Fatal(rovdBinary.err)
	}
	return rovdBinary.path
}

// removeRovdBinary removes what buildRovd built.
func removeRovdBinary() {
	if rovdBinary.dir != "" {
		os.RemoveAll(rovdBinary.dir)
	}
}

// adoptOrphans makes this process the reaper of its orphaned
// descendants, so that a daemon whose first process exited becomes its
// child and its exit status can be read (wait4).
func adoptOrphans(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become the reaper of the daemon: %v", err)
	}
	t.Cleanup(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// daemon is a detached rovd server that a test started.
type daemon struct {
	t      *testing.T
	bin    string
	args   []string
	pid    int
	exited bool
}

// startDaemon runs `rovd args...` (args include server -d) and returns
// the daemon, whose pid it reads from pidFile. The first process must
// exit 0. The daemon is killed at the end of the test if still running.
func startDaemon(t *testing.T, bin, pidFile string, args ...string) *daemon {
	t.Helper()
	out, status := runRovd(t, bin, args...)
	if status != 0 {
		t.Fatalf("rovd %s: exit status %d:\n%s", strings.Join(args, " "), status, out)
	}
	if out != "" {
		t.Errorf("first process printed %q", out)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file holds %q", data)
	}
	d := &daemon{t: t, bin: bin, args: args, pid: pid}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("daemon %d not running: %v", pid, err)
	}
	t.Cleanup(func() {
		if !d.exited {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			d.wait(syscall.SIGKILL)
		}
	})
	return d
}

// runRovd runs rovd to its end (bounded by patience) and returns its
// output and exit status.
func runRovd(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ee.Exited():
		return string(out), ee.ExitCode()
	}
	t.Fatalf("rovd %s: %v\n%s", strings.Join(args, " "), err, out)
	return "", 0
}

// signal sends sig to the daemon.
func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := syscall.Kill(d.pid, sig); err != nil {
		d.t.Fatalf("%v to %d: %v", sig, d.pid, err)
	}
}

// wait waits (bounded) until the daemon has ended after sig and returns
// how; the test reaps it, having adopted it (adoptOrphans).
func (d *daemon) wait(sig syscall.Signal) syscall.WaitStatus {
	d.t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(d.pid, &ws, syscall.WNOHANG, nil)
		if err != nil {
			d.t.Fatalf("wait for %d: %v", d.pid, err)
		}
		if pid == d.pid {
			d.exited = true
			return ws
		}
		time.Sleep(poll)
	}
	d.t.Fatalf("daemon %d still running %v after %v", d.pid, patience, sig)
	return 0
}

// waitFor polls (bounded) until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, patience)
		}
		time.Sleep(poll)
	}
}

// fileHas reports whether the file at path holds s.
func fileHas(path, s string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(data), s)
}

// freeAddr returns an address of 127.0.0.1 with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// maxPDUs bounds the PDUs read for one Reset Query: more than the small
// world's VRPs many times over.
const maxPDUs = 1 << 20

// rtrReset sends a version 1 Reset Query to addr and returns the VRPs of
// the answer as "ASn,prefix,maxLength" lines, after checking that it
// starts with a Cache Response and ends with End of Data.
func rtrReset(t *testing.T, addr string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	return rtrResetOn(t, c)
}

// rtrResetOn is rtrReset on the open connection c, which stays open.
func rtrResetOn(t *testing.T, c net.Conn) []string {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(rtrfast.AppendPDU(nil, &rtrfast.PDU{Version: 1, Type: rtrfast.TypeResetQuery})); err != nil {
		t.Fatal(err)
	}
	var vrps []string
	var buf []byte
	chunk := make([]byte, 64<<10)
	for n := 0; n < maxPDUs; {
		p, size, err := rtrfast.ParsePDU(buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			k, rerr := c.Read(chunk)
			if rerr != nil {
				t.Fatalf("after %d PDUs: %v", n, rerr)
			}
			buf = append(buf, chunk[:k]...)
			continue
		}
		if err != nil {
			t.Fatalf("PDU %d: %v", n, err)
		}
		buf = buf[size:]
		switch {
		case n == 0 && p.Type != rtrfast.TypeCacheResponse:
			t.Fatalf("first PDU is %v, want Cache Response", p.Type)
		case p.Type == rtrfast.TypeIPv4Prefix || p.Type == rtrfast.TypeIPv6Prefix:
			vrps = append(vrps, fmt.Sprintf("AS%d,%s,%d", p.ASN, p.Prefix, p.MaxLength))
		case p.Type == rtrfast.TypeEndOfData:
			slices.Sort(vrps)
			return vrps
		case p.Type == rtrfast.TypeErrorReport:
			t.Fatalf("Error Report: %v %q", p.ErrorCode, p.ErrorText)
		}
		n++
	}
	t.Fatalf("no End of Data after %d PDUs", maxPDUs)
	return nil
}

// TestDaemon runs `rovd server -d` from the built binary on the small
// world: the first process exits 0 once the daemon has started, the pid
// file names the daemon, a second daemon with the same pid file fails
// with status 1 and says why, the daemon serves the world's VRPs over
// RTR, SIGHUP reopens the log file after it was renamed, SIGUSR1 starts
// a run, and SIGTERM stops the daemon with status 0 and removes the pid
// file.
func TestDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and serves a world")
	}
	srv := serve.SmallWorld(t, serve.Options{})
	bin := buildRovd(t)
	adoptOrphans(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "rovd.pid")
	logFile := filepath.Join(dir, "rovd.log")
	args := func(addr string) []string {
		return []string{"-r", filepath.Join(dir, "repo"), "-t", srv.TALDir(), "--allow-dubious-hosts",
			"--rrdp-root-cert", srv.CAFile(), "-v", "--logfile", logFile,
			"server", "-d", "--pid-file", pidFile, "--rtr", addr, "--refresh", "86400"}
	}

	addr := freeAddr(t)
	d := startDaemon(t, bin, pidFile, args(addr)...)

	out, status := runRovd(t, bin, args(freeAddr(t))...)
	if want := fmt.Sprintf("rovd server: pid-file %s: locked by process %d: is rovd running already?\n", pidFile, d.pid); status != 1 || out != want {
		t.Errorf("second daemon: status %d, %q; want 1, %q", status, out, want)
	}
	if err := syscall.Kill(d.pid, 0); err != nil {
		t.Fatalf("first daemon gone after the second failed: %v", err)
	}

	if got, want := rtrReset(t, addr), truthVRPs(t, srv.Dir()); !slices.Equal(got, want) {
		t.Errorf("RTR serves %d VRPs, the world has %d", len(got), len(want))
	}

	rotated := logFile + ".1"
	if err := os.Rename(logFile, rotated); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	waitFor(t, "log file reopened", func() bool { return fileHas(logFile, "SIGHUP: log file reopened") })
	d.signal(syscall.SIGUSR1)
	waitFor(t, "SIGUSR1 logged in the new log file", func() bool { return fileHas(logFile, "SIGUSR1: starting a new run") })
	if !fileHas(rotated, "serving RTR") || fileHas(rotated, "SIGUSR1") {
		data, _ := os.ReadFile(rotated)
		t.Errorf("renamed log file:\n%s", data)
	}

	d.signal(syscall.SIGTERM)
	if ws := d.wait(syscall.SIGTERM); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("daemon ended with %v, want exit status 0", ws)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after SIGTERM: %v", err)
	}
	if !fileHas(logFile, "stopping signal=terminated") {
		data, _ := os.ReadFile(logFile)
		t.Errorf("log file after SIGTERM:\n%s", data)
	}
}

// TestDaemonStartErrors checks that errors of a daemon's start reach
// the terminal with exit status 1 (the first process has reaped the
// daemon by then).
func TestDaemonStartErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd")
	}
	bin := buildRovd(t)
	dir := t.TempDir()
	tals := filepath.Join(dir, "tals")
	if err := os.Mkdir(tals, 0o755); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	logFile := filepath.Join(dir, "rovd.log")
	common := []string{"-r", filepath.Join(dir, "repo"), "-t", tals, "--logfile", logFile}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no TALs", []string{"server", "-d"}, "rovd server: no TALs (*.tal) in " + tals + "\n"},
		{"address in use", []string{"server", "-d", "--rtr", busy.Addr().String()}, "rovd server: rtr-listen " + busy.Addr().String() + ": listen tcp " + busy.Addr().String() + ": bind: address already in use\n"},
		{"unknown user", []string{"server", "-d", "--user", "rovd-no-such-user"}, `rovd server: user "rovd-no-such-user": user: unknown user rovd-no-such-user` + "\n"},
		{"repository outside the chroot", []string{"server", "-d", "--chroot", tals}, "rovd server: chroot " + tals + ": repository-dir " + filepath.Join(dir, "repo") + " lies outside it\n"},
		{"systemd", []string{"server", "-d", "--listen-systemd"}, "rovd server: --detach and --listen-systemd exclude each other: under systemd, rovd runs in the foreground\n"},
		{"pid file in a missing directory", []string{"server", "-d", "--pid-file", filepath.Join(dir, "no", "rovd.pid")}, "rovd server: pid-file: open " + filepath.Join(dir, "no", "rovd.pid") + ": no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, status := runRovd(t, bin, append(slices.Clone(common), tc.args...)...)
			if status != 1 || out != tc.want {
				t.Errorf("status %d, %q; want 1, %q", status, out, tc.want)
			}
		})
	}
}

// TestDaemonChroot runs the daemon as root with --chroot, --user,
// --group and --working-dir on the small world: it binds, then serves
// from inside the new root as the unprivileged user, and removes its pid
// file (under the root) at the end.
func TestDaemonChroot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rovd and serves a world")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot, --user and --group need root; TestSettleOrder checks the order of the calls without")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to run as: %v", err)
	}
	groupName := "nogroup"
	g, err := user.LookupGroup(groupName)
	if err != nil {
		groupName = "nobody"
		if g, err = user.LookupGroup(groupName); err != nil {
			t.Skipf("no group nogroup or nobody to run as: %v", err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	srv := serve.SmallWorld(t, serve.Options{})
	bin := buildRovd(t)
	adoptOrphans(t)

	// The new root holds the TALs, the RRDP server's CA, the repository,
	// the log and the pid file; the daemon's user owns what it writes.
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tals", "repo", "log", "run"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if d != "tals" {
			if err := os.Chown(filepath.Join(root, d), uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tals, _ := filepath.Glob(filepath.Join(srv.TALDir(), "*.tal"))
	for _, tal := range tals {
		copyFile(tal, filepath.Join(root, "tals", filepath.Base(tal)))
	}
	copyFile(srv.CAFile(), filepath.Join(root, "ca.pem"))
	pidFile := filepath.Join(root, "run", "rovd.pid")
	addr := freeAddr(t)
	d := startDaemon(t, bin, pidFile,
		"-r", filepath.Join(root, "repo"), "-t", filepath.Join(root, "tals"), "--allow-dubious-hosts",
		"--rrdp-root-cert", filepath.Join(root, "ca.pem"), "--disable-rsync", "-v",
		"--logfile", filepath.Join(root, "log", "rovd.log"),
		"server", "-d", "--pid-file", pidFile, "--rtr", addr, "--refresh", "86400",
		"--chroot", root, "--working-dir", filepath.Join(root, "repo"), "--user", "nobody", "--group", groupName)

	proc := fmt.Sprintf("/proc/%d/", d.pid)
	if got, err := os.Readlink(proc + "root"); err != nil || got != root {
		t.Errorf("root of the daemon %q, %v; want %s", got, err, root)
	}
	if got, err := os.Readlink(proc + "cwd"); err != nil || got != filepath.Join(root, "repo") {
		t.Errorf("working directory of the daemon %q, %v; want %s", got, err, filepath.Join(root, "repo"))
	}
	status, err := os.ReadFile(proc + "status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d\n", uid, uid, uid, uid),
		fmt.Sprintf("Gid:\t%d\t%d\t%d\t%d\n", gid, gid, gid, gid),
		fmt.Sprintf("Groups:\t%d", gid),
	} {
		if !strings.Contains(string(status), want) {
			t.Errorf("daemon's status lacks %q:\n%s", want, status)
		}
	}

	if got := rtrReset(t, addr); len(got) == 0 {
		t.Error("RTR serves no VRPs from inside the chroot")
	}
	if _, err := os.Stat(filepath.Join(root, "repo", "served-set")); err != nil {
		t.Errorf("state file under the chroot: %v", err)
	}
	d.signal(syscall.SIGTERM)
	if ws := d.wait(syscall.SIGTERM); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("daemon ended with %v, want exit status 0", ws)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after SIGTERM: %v", err)
	}
}

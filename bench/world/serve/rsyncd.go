package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrNoRsync is returned by Start when the rsync binary is missing.
var ErrNoRsync = errors.New("rsync not installed")

const (
	// stopLimit bounds the wait for a killed process group to vanish.
	stopLimit = 10 * time.Second
	// logTail is how much of a daemon's log an error quotes.
	logTail = 2048
)

func findRsync(bin string) (string, error) {
	if bin == "" {
		bin = "rsync"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoRsync, err)
	}
	return p, nil
}

// rsyncDaemon is one `rsync --daemon` process.
type rsyncDaemon struct {
	*planned
	bin, serveDir string
	log           *slog.Logger

	conf, logFile string
	logStart      int64 // size of the log file before this run
	cmd           *exec.Cmd
	pid           int
	exited        chan struct{}
	waitErr       error // set before exited closes
	// ready is set once the daemon answered; an exit before that is
	// Start's error, after it the log's.
	ready    atomic.Bool
	stopping atomic.Bool
}

// start writes the daemon's configuration and starts it. It checks first
// that the address is free, because a daemon that cannot bind only says so
// in its log.
func (d *rsyncDaemon) start() error {
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		return &AddrError{Proto: "rsync", Addr: d.addr, Users: d.users, Err: err}
	}
	if err := ln.Close(); err != nil {
		return err
	}
	base := "rsyncd-" + fileSafe(d.addr)
	d.conf = filepath.Join(d.serveDir, base+".conf")
	d.logFile = filepath.Join(d.serveDir, base+".log")
	if err := os.WriteFile(d.conf, []byte(d.config()), 0o644); err != nil {
		return err
	}
	out, err := os.OpenFile(d.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the daemon has its own copy
	if fi, err := out.Stat(); err == nil {
		d.logStart = fi.Size()
	}
	cmd := exec.Command(d.bin, "--daemon", "--no-detach", "--config="+d.conf, "--address="+d.host, "--port="+d.port)
	cmd.Dir = d.serveDir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("rsync daemon %s: %w", d.addr, err)
	}
	d.cmd, d.pid, d.exited = cmd, cmd.Process.Pid, make(chan struct{})
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
		if d.ready.Load() && !d.stopping.Load() {
			d.log.Error("rsync daemon exited", "addr", d.addr, "err", d.waitErr, "log", d.logFile)
		}
	}()
	return nil
}

// config returns the rsyncd.conf text: one read-only module per
// repository, no chroot and no user switching, so that the daemon runs the
// same as root and as a normal user.
func (d *rsyncDaemon) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# rsync daemon for %s, written by bench/world/serve at every start\n", d.addr)
	b.WriteString("use chroot = no\nread only = yes\nlist = yes\nreverse lookup = no\nnumeric ids = yes\n")
	fmt.Fprintf(&b, "log file = %s\n", d.logFile)
	if os.Geteuid() == 0 {
		// As root the daemon would switch to nobody, who cannot read a
		// world under a 0700 directory such as t.TempDir(). A normal
		// user must not name any: setgroups would fail.
		b.WriteString("uid = 0\ngid = 0\n")
	}
	for _, m := range d.modules {
		fmt.Fprintf(&b, "\n[%s]\n\tpath = %s\n\tcomment = rovd-bench world module %s\n", m.name, m.path, m.name)
	}
	return b.String()
}

// probe waits until the daemon lists every module, or fails when it exits
// or ctx ends.
func (d *rsyncDaemon) probe(ctx context.Context) error {
	delay := 5 * time.Millisecond
	var last error
	for {
		select {
		case <-d.exited:
			tail := d.tail()
			err := fmt.Errorf("exited (%v): %s", d.waitErr, tail)
			if strings.Contains(tail, "Address already in use") {
				err = syscall.EADDRINUSE
			}
			return &AddrError{Proto: "rsync", Addr: d.addr, Users: d.users, Err: err}
		default:
		}
		mods, err := listModules(ctx, d.addr)
		if err == nil {
			for _, m := range d.modules {
				if !slices.Contains(mods, m.name) {
					return fmt.Errorf("rsync daemon %s: module %s not listed (have %v)", d.addr, m.name, mods)
				}
			}
			d.ready.Store(true)
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("rsync daemon %s: not answering: %w (last: %v; log %s)", d.addr, ctx.Err(), last, d.logFile)
		case <-d.exited:
		case <-time.After(delay):
			delay = min(2*delay, 100*time.Millisecond)
		}
	}
}

// listModules asks an rsync daemon for its module list, as `rsync
// rsync://HOST:PORT/` does (the daemon protocol of rsync's
// clientserver.c).
func listModules(ctx context.Context, addr string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(dl); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReader(io.LimitReader(c, 1<<20))
	greeting, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(greeting, "@RSYNCD: ") {
		return nil, fmt.Errorf("not an rsync daemon: %q", greeting)
	}
	// Protocol 30 needs no checksum negotiation; "#list" asks for the
	// module list.
	if _, err := io.WriteString(c, "@RSYNCD: 30.0\n#list\n"); err != nil {
		return nil, err
	}
	var mods []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("module list: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "@RSYNCD: EXIT":
			return mods, nil
		case strings.HasPrefix(line, "@ERROR"):
			return nil, errors.New(line)
		}
		name, _, _ := strings.Cut(line, "\t")
		mods = append(mods, strings.TrimSpace(name))
	}
}

// tail returns the end of what this run of the daemon logged.
func (d *rsyncDaemon) tail() string {
	f, err := os.Open(d.logFile)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	start := max(d.logStart, fi.Size()-logTail)
	b, err := io.ReadAll(io.NewSectionReader(f, start, fi.Size()-start))
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}

// stop kills the daemon and every process of its group (the children
// serving connections) and waits for them.
func (d *rsyncDaemon) stop() error {
	if d.cmd == nil {
		return nil
	}
	d.stopping.Store(true)
	pgid := d.pid
	// SIGKILL at once: the daemon keeps no state worth a clean exit, and
	// on SIGTERM rsync takes 0.4 s to go, which every test would pay.
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH: already gone
	select {
	case <-d.exited:
	case <-time.After(stopLimit):
		return fmt.Errorf("rsync daemon %s (pid %d): still running after SIGKILL", d.addr, d.pid)
	}
	// Children serving a connection may outlive the daemon briefly.
	deadline := time.Now().Add(stopLimit)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("rsync daemon %s: processes of group %d still running", d.addr, pgid)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// fileSafe turns an address into a file name part: 127.0.0.1_873,
// __1_873 for [::1]:873.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		case r == '[' || r == ']':
			return -1
		}
		return '_'
	}, s)
}

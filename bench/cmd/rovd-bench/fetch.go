package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rovd/rovd/bench/harness"
	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/netio"
	"github.com/rovd/rovd/store"
)

func runFetch(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs, parse := commandFlags("fetch", "fetch [options] DIR",
		"Fetches every repository of the world in DIR into an empty store (or, with\n"+
			"--update, brings an existing one up to date) the way\n"+
			"rovd does (netio and store), and reports wall time, CPU time and peak memory\n"+
			"of this process. Unless --no-serve is given, the world is served by a\n"+
			"'rovd-bench serve' child process, so the servers' work is not counted.", 1, stderr)
	var (
		storeDir = fs.String("store", "", "store directory (default: a temporary one, removed afterwards)")
		rsync    = fs.Bool("rsync", false, "fetch over rsync instead of RRDP")
		noServe  = fs.Bool("no-serve", false, "the world is already served (rovd-bench serve DIR)")
		parallel = fs.Int("parallel", netio.DefaultParallel, "repositories fetched at once")
		update   = fs.Bool("update", false, "bring the store given with --store up to date instead of emptying it first")
	)
	if status, done := parse(args, stdout); done {
		return status
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rovd-bench fetch: %v\n", err)
		return 1
	}
	dir := fs.Arg(0)
	state, err := world.ReadState(dir)
	if err != nil {
		return fail(err)
	}
	if !*noServe {
		stopServer, err := startServeChild(ctx, dir, stderr)
		if err != nil {
			return fail(err)
		}
		defer stopServer()
	}
	if *update && *storeDir == "" {
		return fail(errors.New("--update needs --store"))
	}
	if *storeDir == "" {
		tmp, err := os.MkdirTemp("", "rovd-bench-store-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(tmp)
		*storeDir = tmp
	}
	before := readUsage()
	start := time.Now()
	statuses, err := harness.FetchWorld(ctx, *storeDir, dir, state, harness.FetchWorldOptions{Fresh: !*update, Rsync: *rsync, Parallel: *parallel})
	wall := time.Since(start)
	after := readUsage()
	if err != nil {
		return fail(err)
	}
	var size int64
	if fi, err := os.Stat(filepath.Join(*storeDir, store.FileName)); err == nil {
		size = fi.Size()
	}
	var objects int
	var bytes int64
	for _, s := range statuses {
		objects += s.Objects
		bytes += s.Bytes
		fmt.Fprintf(stdout, "%-60s %-6s %-12s %8d objects %10.1f MB %8v\n", s.URI, s.Protocol, s.Method, s.Objects, float64(s.Bytes)/1e6, s.Duration.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "fetched %d repositories, %d objects, %.1f MB received, in %v wall, %v CPU (user+sys); peak RSS %.0f MB, RSS anon at end %.0f MB; store file %.0f MB\n",
		len(state.Repositories), objects, float64(bytes)/1e6, wall.Round(time.Millisecond),
		(after.cpu - before.cpu).Round(time.Millisecond), float64(after.hwm)/1e6, float64(after.anon)/1e6, float64(size)/1e6)
	return 0
}

// resourceUse is this process's resource use: CPU time, peak RSS (VmHWM) and
// anonymous RSS.
type resourceUse struct {
	cpu       time.Duration
	hwm, anon int64
}

func readUsage() resourceUse {
	var u resourceUse
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return u
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		switch {
		case strings.HasPrefix(sc.Text(), "VmHWM:"):
			fmt.Sscanf(strings.TrimPrefix(sc.Text(), "VmHWM:"), "%d", &kb)
			u.hwm = kb << 10
		case strings.HasPrefix(sc.Text(), "RssAnon:"):
			fmt.Sscanf(strings.TrimPrefix(sc.Text(), "RssAnon:"), "%d", &kb)
			u.anon = kb << 10
		}
	}
	return u
}

// startServeChild runs 'rovd-bench serve DIR' as a child process and
// waits until it says it serves.
func startServeChild(ctx context.Context, dir string, stderr io.Writer) (stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve", "-q", dir)
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}
	// The server prints its URIs once everything answers.
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "https://") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- errors.New("serve child ended before serving")
	}()
	select {
	case err := <-ready:
		if err != nil {
			stop()
			return nil, err
		}
	case <-time.After(2 * time.Minute):
		stop()
		return nil, errors.New("serve child did not start within 2 minutes")
	}
	return stop, nil
}

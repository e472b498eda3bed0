package rtrtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Timeout bounds each wait for an external client.
const Timeout = 60 * time.Second

// pollInterval is the pause between two looks at BIRD's tables.
const pollInterval = 200 * time.Millisecond

// NeedBinary returns the path of the program name, or skips the test,
// naming the Debian package pkg that provides it.
func NeedBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s; .ci/run installs it)", name, pkg)
	}
	return p
}

// RTRClientTable has rtrclient fetch the full table from the RTR server
// at host:port once (-e -t csv) and returns it. It skips the test when
// rtrclient is not installed.
func RTRClientTable(t testing.TB, host, port string) VRPs {
	t.Helper()
	bin := NeedBinary(t, "rtrclient", "rtr-tools")
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-e", "-t", "csv", "tcp", host, port).Output()
	if err != nil {
		t.Fatalf("rtrclient -e: %v\n%s", err, out)
	}
	got := VRPs{}
	for line := range strings.Lines(string(out)) {
		if v, ok := ParseRTRClientLine(line); ok {
			got[v] = true
		}
	}
	return got
}

// RTRClient is a running `rtrclient -p`: it stays connected and prints
// every VRP it adds or removes, which the RTRClient applies to its own
// copy of the table.
type RTRClient struct {
	t     testing.TB
	lines <-chan string
	table VRPs
}

// StartRTRClient connects `rtrclient -p` to the RTR server at host:port
// until the test ends. It skips the test when rtrclient (or stdbuf, which
// keeps its output line-buffered) is not installed.
func StartRTRClient(t testing.TB, host, port string) *RTRClient {
	t.Helper()
	bin := NeedBinary(t, "rtrclient", "rtr-tools")
	stdbuf := NeedBinary(t, "stdbuf", "coreutils")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, stdbuf, "-oL", bin, "-p", "tcp", host, port)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	stopped := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stopped:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stopped)
		cancel()
		_ = cmd.Wait() // killed: the error says so and nothing more
	})
	return &RTRClient{t: t, lines: lines, table: VRPs{}}
}

// WaitFor applies rtrclient's updates until its table equals want, and
// fails the test if rtrclient ends, reports an update that does not fit
// its table (a duplicate announcement or the withdrawal of an unknown
// VRP), or does not get there within Timeout.
func (c *RTRClient) WaitFor(want VRPs) {
	c.t.Helper()
	timeout := time.After(Timeout)
	for !c.table.Equal(want) {
		select {
		case line, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("rtrclient ended: %s", c.table.Diff(want))
			}
			v, ok := ParseRTRClientLine(line)
			if !ok {
				continue
			}
			switch {
			case strings.HasPrefix(line, "+") && !c.table[v]:
				c.table[v] = true
			case strings.HasPrefix(line, "-") && c.table[v]:
				delete(c.table, v)
			default:
				c.t.Fatalf("rtrclient: unexpected update %q", line)
			}
		case <-timeout:
			c.t.Fatalf("rtrclient after %v: %s", Timeout, c.table.Diff(want))
		}
	}
}

// BIRD is a running BIRD 2 whose rpki protocol fills the roa4 table r4
// and the roa6 table r6 from one RTR server.
type BIRD struct {
	t     testing.TB
	birdc string
	sock  string
}

// birdConfig is a minimal BIRD 2 configuration: the log file, the two
// ROA tables and the rpki protocol with host and port. The short retry
// brings BIRD back quickly after a failed connection; refresh and expire
// are BIRD's own when the server sends no timers (version 0).
const birdConfig = `router id 192.0.2.1;
log "%s" all;
roa4 table r4;
roa6 table r6;
protocol rpki rovd {
	roa4 { table r4; };
	roa6 { table r6; };
	remote %s port %s;
	retry keep 1;
	refresh keep 30;
	expire keep 600;
}
`

// StartBIRD runs BIRD 2 in the foreground, connected to the RTR server
// at host:port, until the test ends; if the test failed, BIRD's output
// and log are logged then. It skips the test when bird or birdc is not
// installed.
func StartBIRD(t testing.TB, host, port string) *BIRD {
	t.Helper()
	bird := NeedBinary(t, "bird", "bird2")
	birdc := NeedBinary(t, "birdc", "bird2")
	dir := t.TempDir()
	conf := filepath.Join(dir, "bird.conf")
	logFile := filepath.Join(dir, "bird.log")
	sock := filepath.Join(dir, "bird.ctl")
	if err := os.WriteFile(conf, fmt.Appendf(nil, birdConfig, logFile, host, port), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bird, "-c", conf, "-s", sock, "-f")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed: the error says so and nothing more
		if t.Failed() {
			log, err := os.ReadFile(logFile)
			if err != nil {
				log = []byte(err.Error())
			}
			t.Logf("bird output:\n%s\nbird log:\n%s", out.String(), log)
		}
	})
	return &BIRD{t: t, birdc: birdc, sock: sock}
}

// show runs `birdc show route table T ARGS...` and returns its output.
func (b *BIRD) show(table string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.birdc, append([]string{"-s", b.sock, "show", "route", "table", table}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("birdc show route table %s: %v: %s", table, err, out)
	}
	return string(out), nil
}

// count returns the number of routes in one of BIRD's tables.
func (b *BIRD) count(table string) (int, error) {
	out, err := b.show(table, "count")
	if err != nil {
		return 0, err
	}
	// "3000 of 3000 routes for 3000 networks in table r4"
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "of" {
			return strconv.Atoi(f[0])
		}
	}
	return 0, fmt.Errorf("birdc: no count in %q", out)
}

// Counts returns the number of VRPs in BIRD's roa4 and roa6 tables.
func (b *BIRD) Counts() (v4, v6 int, err error) {
	if v4, err = b.count("r4"); err != nil {
		return 0, 0, err
	}
	if v6, err = b.count("r6"); err != nil {
		return 0, 0, err
	}
	return v4, v6, nil
}

// VRPs returns the content of BIRD's roa4 and roa6 tables.
func (b *BIRD) VRPs() (VRPs, error) {
	got := VRPs{}
	for _, table := range []string{"r4", "r6"} {
		out, err := b.show(table)
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(out) {
			if v, ok := ParseBIRDRoute(line); ok {
				got[v] = true
			}
		}
	}
	return got, nil
}

// WaitCounts waits until BIRD holds as many IPv4 and IPv6 VRPs as want
// has of those BIRD keeps (see BIRDKeeps), and fails the test if it does
// not within Timeout.
func (b *BIRD) WaitCounts(want VRPs) {
	b.t.Helper()
	b.wait(want, false)
}

// WaitFor waits until BIRD's tables hold exactly the VRPs of want that
// BIRD keeps (see BIRDKeeps), and fails the test if they do not within
// Timeout. It compares the counts first and reads the tables only when
// they match.
func (b *BIRD) WaitFor(want VRPs) {
	b.t.Helper()
	b.wait(want, true)
}

func (b *BIRD) wait(want VRPs, content bool) {
	b.t.Helper()
	if kept := BIRDView(want); len(kept) != len(want) {
		b.t.Logf("BIRD drops %d of the %d VRPs as bogus routes: expecting the rest", len(want)-len(kept), len(want))
		want = kept
	}
	want4, want6 := want.Counts()
	deadline := time.Now().Add(Timeout)
	var last string
	for time.Now().Before(deadline) {
		got4, got6, err := b.Counts()
		switch {
		case err != nil:
			last = err.Error()
		case got4 != want4 || got6 != want6:
			last = fmt.Sprintf("%d IPv4 and %d IPv6 VRPs, want %d and %d", got4, got6, want4, want6)
		case !content:
			return
		default:
			got, err := b.VRPs()
			if err == nil && got.Equal(want) {
				return
			}
			if err != nil {
				last = err.Error()
			} else {
				last = got.Diff(want)
			}
		}
		time.Sleep(pollInterval)
	}
	b.t.Fatalf("BIRD after %v: %s", Timeout, last)
}

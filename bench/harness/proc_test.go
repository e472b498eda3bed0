package harness_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
)

// helperEnv makes the test binary a helper process: "LEVELS:MIB" holds
// MIB MiB of touched heap, starts a helper of LEVELS-1 below itself,
// burns helperCPU of CPU time and waits for its child.
const helperEnv = "ROVD_HARNESS_TEST_HELPER"

// helperCPU is the CPU time each helper process burns: long enough for
// many 20 ms samples, short enough for a quick test.
const helperCPU = 300 * time.Millisecond

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(helper(spec))
	}
	os.Exit(m.Run())
}

func helper(spec string) int {
	a, b, _ := strings.Cut(spec, ":")
	levels, err1 := strconv.Atoi(a)
	mib, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "bad helper spec", spec)
		return 2
	}
	mem := make([]byte, mib<<20)
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1 // resident, not just reserved
	}
	var child *exec.Cmd
	if levels > 1 {
		child = exec.Command(os.Args[0])
		child.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%d", helperEnv, levels-1, mib))
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	burn(helperCPU)
	if child != nil {
		if err := child.Wait(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	runtime.KeepAlive(mem)
	return 0
}

// burn spins until the process has used d of CPU time, so that the
// amount does not depend on how busy the machine is.
func burn(d time.Duration) {
	x := 0
	for {
		for range 1 << 16 {
			x++
		}
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil &&
			time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
			return
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		ppid  int
		ticks int64
		ok    bool
	}{
		{"plain", "123 (sleep) S 45 123 45 0 -1 4194304 100 0 0 0 7 3 2 1 20 0 1 0 100 1000 100 0",
			45, 13, true},
		{"command with spaces and parentheses", "9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 10 20 30 40 20 0 1 0",
			1, 100, true},
		{"truncated", "9 (x) R 1 9", 0, 0, false},
		{"no command", "garbage", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ppid, ticks, ok := harness.ParseStat([]byte(tc.line))
			if ppid != tc.ppid || ticks != tc.ticks || ok != tc.ok {
				t.Errorf("got %d, %d, %v; want %d, %d, %v", ppid, ticks, ok, tc.ppid, tc.ticks, tc.ok)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tsleep\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nRssAnon:\t     128 kB\nRssFile:\t 896 kB\n"
	rss, anon, hwm := harness.ParseStatus([]byte(status))
	if rss != 1024<<10 || anon != 128<<10 || hwm != 2048<<10 {
		t.Errorf("got rss %d anon %d hwm %d", rss, anon, hwm)
	}
	if rss, anon, hwm := harness.ParseStatus([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); rss != 0 || anon != 0 || hwm != 0 {
		t.Errorf("zombie: got %d %d %d", rss, anon, hwm)
	}
}

// TestSampleTree finds a shell and its two background sleeps.
func TestSampleTree(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	var s harness.TreeSample
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if s, err = harness.SampleTree("/proc", cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		// The shell's children are shells until they exec sleep.
		if len(s.PIDs) == 3 && comm(s.PIDs[1]) == "sleep" && comm(s.PIDs[2]) == "sleep" {
			break
		}
	}
	if len(s.PIDs) != 3 || s.PIDs[0] != cmd.Process.Pid {
		t.Fatalf("tree %v, want the shell %d and two sleeps", s.PIDs, cmd.Process.Pid)
	}
	for name, sample := range map[string]func(string, int) (harness.TreeSample, error){
		"scan": harness.SampleByScan, "children": harness.SampleByChildren,
	} {
		s, err := sample("/proc", cmd.Process.Pid)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s.PIDs) != 3 || s.PIDs[0] != cmd.Process.Pid {
			t.Fatalf("%s: tree %v, want the shell %d and two sleeps", name, s.PIDs, cmd.Process.Pid)
		}
		if s.RSS <= 0 || s.Anon <= 0 || s.RSS < s.Anon || s.MaxHWM <= 0 {
			t.Errorf("%s: sample %+v: want positive RSS ≥ anon and a VmHWM", name, s)
		}
		for _, p := range s.PIDs[1:] {
			if c := comm(p); c != "sleep" {
				t.Errorf("%s: pid %d is %q, want sleep", name, p, c)
			}
		}
	}
	for _, sample := range []func(string, int) (harness.TreeSample, error){harness.SampleByScan, harness.SampleByChildren} {
		if s, err := sample("/proc", 1<<30); err != nil || len(s.PIDs) != 0 {
			t.Errorf("a process that does not exist: %+v, %v", s, err)
		}
	}
}

func comm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// TestMeasureTree measures two helper processes, parent and child, that
// hold 40 MiB each at the same time: the peak is the sum, more than
// either alone, and the CPU time is both processes'.
func TestMeasureTree(t *testing.T) {
	const mib = 40
	u, err := harness.Measure(context.Background(), harness.Command{
		Path: os.Args[0], Env: append(os.Environ(), fmt.Sprintf("%s=2:%d", helperEnv, mib)),
		Log: filepath.Join(t.TempDir(), "log"), Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("usage %+v", u)
	if u.PeakAnon < 2*mib<<20 {
		t.Errorf("peak anon %d MiB, want at least %d MiB (both processes)", u.PeakAnon>>20, 2*mib)
	}
	if u.PeakRSS < u.PeakAnon {
		t.Errorf("peak RSS %d below peak anon %d", u.PeakRSS, u.PeakAnon)
	}
	if want := 2 * helperCPU * 9 / 10; u.CPU < want {
		t.Errorf("CPU %v, want at least %v (both processes)", u.CPU, want)
	}
	if u.Wall <= 0 || u.Samples < 2 {
		t.Errorf("wall %v, %d samples", u.Wall, u.Samples)
	}
}

func TestMeasureExitError(t *testing.T) {
	_, err := harness.Measure(context.Background(), harness.Command{Path: "sh", Args: []string{"-c", "echo boom >&2; exit 3"}})
	var ee *harness.ExitError
	if !errors.As(err, &ee) || ee.State.ExitCode() != 3 || !strings.Contains(ee.Tail, "boom") {
		t.Errorf("got %v, want exit 3 with the output", err)
	}
}

func TestMeasureTimeout(t *testing.T) {
	start := time.Now()
	_, err := harness.Measure(context.Background(), harness.Command{Path: "sleep", Args: []string{"30"}, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, harness.ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestMeasureCancelKillsGroup cancels a shell whose background child
// would outlive it: the whole group goes.
func TestMeasureCancelKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := harness.Measure(ctx, harness.Command{Path: "sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; wait"}})
		errc <- err
	}()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(pidFile)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	if pid == 0 {
		t.Fatal("the shell did not start its child")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Measure did not return after cancel")
	}
	for deadline := time.Now().Add(5 * time.Second); !gone(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the shell's child %d survived the cancel", pid)
		}
	}
}

// gone tells whether a process has ended: it is absent or a zombie
// waiting for a reaper that is not ours.
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && strings.HasPrefix(string(b[i+1:]), " Z")
}

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// SampleInterval is how often the process tree of a measured program is
// sampled. 20 ms catches every allocation burst longer than that, and a
// sample costs about 0.1 ms (1 ms where /proc must be scanned) with a
// few dozen processes on the machine, so the sampler steals well under
// 1% of a core from the program it measures.
const SampleInterval = 20 * time.Millisecond

// userHZ is the unit of the CPU times in /proc/PID/stat. Linux fixes it
// at 100 for every architecture it exposes to user space (USER_HZ).
const userHZ = 100

// Usage is what one run of a program cost.
type Usage struct {
	Wall time.Duration
	// CPU is user plus system time of the program and all its
	// descendants.
	CPU time.Duration
	// PeakRSS and PeakAnon are the peaks, in bytes, of the sum of
	// VmRSS and RssAnon over the process tree.
	PeakRSS, PeakAnon int64
	// Samples is the number of samples taken.
	Samples int
}

// TreeSample is one reading of a process tree.
type TreeSample struct {
	// PIDs are the processes found: the root and its descendants.
	PIDs []int
	// RSS and Anon are the sums of VmRSS and RssAnon, in bytes.
	RSS, Anon int64
	// MaxHWM is the largest VmHWM (a process's own peak RSS) of the
	// processes, in bytes.
	MaxHWM int64
	// CPU is the sum of user and system time of the live processes
	// and of the children they have waited for.
	CPU time.Duration
}

// SampleTree reads the process tree rooted at pid from proc (normally
// "/proc"). A root that has gone yields an empty sample, not an error:
// the program may end between two samples.
//
// Where the kernel lists each thread's children
// (/proc/PID/task/TID/children, CONFIG_PROC_CHILDREN) the walk starts at
// the root and reads only the tree's own files; otherwise it scans the
// parent PID of every process in proc. The first costs a tenth of the
// second on a machine with a few dozen processes, and the sampler runs
// on the same cores as the program it measures.
func SampleTree(proc string, pid int) (TreeSample, error) {
	if childrenListed(proc) {
		return sampleByChildren(proc, pid)
	}
	return sampleByScan(proc, pid)
}

var (
	childrenOnce sync.Once
	childrenOK   bool
)

// childrenListed tells whether proc has the children files, judged
// once from this process's own main thread.
func childrenListed(proc string) bool {
	if proc != "/proc" {
		_, err := os.Stat(fmt.Sprintf("%s/%d/task/%d/children", proc, os.Getpid(), os.Getpid()))
		return err == nil
	}
	childrenOnce.Do(func() {
		_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d/children", os.Getpid(), os.Getpid()))
		childrenOK = err == nil
	})
	return childrenOK
}

// sampler holds the scratch of one sample.
type sampler struct {
	proc string
	buf  []byte
	s    TreeSample
	tick int64
}

// add reads one process's CPU and memory into the sample.
func (sm *sampler) add(p int, ticks int64) {
	sm.s.PIDs = append(sm.s.PIDs, p)
	sm.tick += ticks
	var err error
	sm.buf, err = readFileInto(sm.buf, sm.proc+"/"+strconv.Itoa(p)+"/status")
	if err != nil {
		return // ended while we looked
	}
	rss, anon, hwm := parseStatus(sm.buf)
	sm.s.RSS += rss
	sm.s.Anon += anon
	sm.s.MaxHWM = max(sm.s.MaxHWM, hwm)
}

func (sm *sampler) done() TreeSample {
	sm.s.CPU = time.Duration(sm.tick) * (time.Second / userHZ)
	return sm.s
}

func sampleByChildren(proc string, pid int) (TreeSample, error) {
	sm := &sampler{proc: proc, buf: make([]byte, 0, 2048)}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		dir := proc + "/" + strconv.Itoa(p)
		var err error
		sm.buf, err = readFileInto(sm.buf, dir+"/stat")
		if err != nil {
			continue // ended while we looked
		}
		_, ticks, ok := parseStat(sm.buf)
		if !ok {
			continue
		}
		sm.add(p, ticks)
		tasks, err := readDirNames(dir + "/task")
		if err != nil {
			continue
		}
		for _, tid := range tasks {
			sm.buf, err = readFileInto(sm.buf, dir+"/task/"+tid+"/children")
			if err != nil {
				continue
			}
			for f := range bytes.FieldsSeq(sm.buf) {
				if c, err := strconv.Atoi(string(f)); err == nil {
					queue = append(queue, c)
				}
			}
		}
	}
	return sm.done(), nil
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func sampleByScan(proc string, pid int) (TreeSample, error) {
	names, err := readDirNames(proc)
	if err != nil {
		return TreeSample{}, err
	}
	type stat struct {
		ppid int
		cpu  int64
	}
	stats := make(map[int]stat, len(names))
	children := make(map[int][]int)
	sm := &sampler{proc: proc, buf: make([]byte, 0, 2048)}
	for _, name := range names {
		p, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		sm.buf, err = readFileInto(sm.buf, proc+"/"+name+"/stat")
		if err != nil {
			continue // ended while we looked
		}
		ppid, cpu, ok := parseStat(sm.buf)
		if !ok {
			continue
		}
		stats[p] = stat{ppid, cpu}
		children[ppid] = append(children[ppid], p)
	}
	if _, ok := stats[pid]; !ok {
		return TreeSample{}, nil
	}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		sm.add(p, stats[p].cpu)
		queue = append(queue, children[p]...)
	}
	return sm.done(), nil
}

// readFileInto reads a small /proc file into buf. It uses the system
// calls directly: os.Open's extra work (registering with the poller,
// which fails for these files) would double the cost of a sample.
func readFileInto(buf []byte, name string) ([]byte, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return buf[:0], err
	}
	defer syscall.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// parseStat reads the parent PID and utime+stime+cutime+cstime (in
// ticks) from a /proc/PID/stat line. The command name in parentheses may
// hold spaces and parentheses itself, so fields are counted from the
// last ')'.
func parseStat(b []byte) (ppid int, ticks int64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16)
	// cstime(17), numbered as in proc(5).
	f := bytes.Fields(b[i+1:])
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, 0, false
	}
	for _, x := range f[11:15] {
		v, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += v
	}
	return ppid, ticks, true
}

// parseStatus reads VmRSS, RssAnon and VmHWM, in bytes, from
// /proc/PID/status. A zombie has none of them.
func parseStatus(b []byte) (rss, anon, hwm int64) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = parseKB(line[len("VmRSS:"):])
		case bytes.HasPrefix(line, []byte("RssAnon:")):
			anon = parseKB(line[len("RssAnon:"):])
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = parseKB(line[len("VmHWM:"):])
		}
	}
	return rss, anon, hwm
}

func parseKB(b []byte) int64 {
	b = bytes.TrimSpace(b)
	b = bytes.TrimSpace(bytes.TrimSuffix(b, []byte("kB")))
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return v << 10
}

// treeWatch samples a process tree every SampleInterval, from its
// start until stopped, and keeps the peaks.
type treeWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak treePeaks
}

// treePeaks are the peaks of a process tree over the samples of a
// treeWatch.
type treePeaks struct {
	// PeakRSS and PeakAnon are the largest sums of VmRSS and RssAnon
	// over the tree in any one sample.
	PeakRSS, PeakAnon int64
	// MaxHWM is the largest VmHWM of any process seen: a process's own
	// peak over its whole life, the time before the watch included.
	MaxHWM int64
	// CPU is the last CPU time read of the tree (CPU only grows).
	CPU     time.Duration
	Samples int
}

// watchTree starts sampling the process tree rooted at pid; the first
// sample is taken at once.
func watchTree(pid int) *treeWatch {
	w := &treeWatch{done: make(chan struct{})}
	w.wg.Go(func() {
		t := time.NewTicker(SampleInterval)
		defer t.Stop()
		for {
			s, err := SampleTree("/proc", pid)
			if err == nil && len(s.PIDs) > 0 {
				p := &w.peak
				p.Samples++
				p.PeakRSS = max(p.PeakRSS, s.RSS)
				p.PeakAnon = max(p.PeakAnon, s.Anon)
				p.MaxHWM = max(p.MaxHWM, s.MaxHWM)
				p.CPU = max(p.CPU, s.CPU)
			}
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	})
	return w
}

// stop ends the watch and returns its peaks.
func (w *treeWatch) stop() treePeaks {
	close(w.done)
	w.wg.Wait()
	return w.peak
}

// Command is one program run.
type Command struct {
	Path string
	Args []string
	// Dir is the working directory; empty means the harness's.
	Dir string
	// Env, if not nil, replaces the environment.
	Env []string
	// Log receives stdout and stderr; "" keeps them only for an
	// error message.
	Log string
	// Timeout bounds the run; 0 means none.
	Timeout time.Duration
}

// String returns the command line.
func (c Command) String() string {
	s := c.Path
	for _, a := range c.Args {
		s += " " + a
	}
	return s
}

// ErrTimeout is returned (wrapped) by Measure when a run exceeds its
// Command.Timeout.
var ErrTimeout = errors.New("time limit exceeded")

// ExitError reports a program that ended with a non-zero status.
type ExitError struct {
	Cmd   string
	State *os.ProcessState
	// Tail is the end of the program's output, for the message.
	Tail string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Cmd, e.State)
	if e.Tail != "" {
		msg += ": " + e.Tail
	}
	return msg
}

// Measure runs c in a process group of its own and measures it with a
// sampler on the process tree. Cancelling ctx (or the time limit) kills
// the whole group. A non-zero exit is an *ExitError; the usage is filled
// in even then.
func Measure(ctx context.Context, c Command) (Usage, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.Timeout, ErrTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The default Cancel kills the leader only; the program's children
	// (rpki-client's parser and fetchers, a shell's sleep) would live
	// on, so the whole group goes.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// The program writes straight into a file: through a pipe, the
	// harness would copy its output while it is being measured.
	var logFile *os.File
	var err error
	if c.Log != "" {
		logFile, err = os.Create(c.Log)
	} else {
		logFile, err = os.CreateTemp("", "rovd-bench-log-")
		if err == nil {
			defer os.Remove(logFile.Name())
		}
	}
	if err != nil {
		return Usage{}, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile

	var u Usage
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return u, err
	}
	pid := cmd.Process.Pid
	w := watchTree(pid)
	err = cmd.Wait()
	u.Wall = time.Since(start)
	sampled := w.stop()
	// Anything the program left behind in its group goes too; ESRCH
	// (nothing left) is the normal case.
	_ = syscall.Kill(-pid, syscall.SIGKILL)

	// A process's own peak (VmHWM) catches a burst between two
	// samples; the sum can only have been larger then.
	u.PeakRSS, u.PeakAnon, u.Samples = max(sampled.PeakRSS, sampled.MaxHWM), sampled.PeakAnon, sampled.Samples
	// The rusage's ru_maxrss is no use here: Linux carries the
	// pre-exec memory image's peak into it, and Go starts children
	// with vfork semantics from its own, large, address space.
	if st := cmd.ProcessState; st != nil {
		u.CPU = max(st.UserTime()+st.SystemTime(), sampled.CPU)
	}
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, ErrTimeout) {
			return u, fmt.Errorf("%s: %w after %s", c.Path, ErrTimeout, c.Timeout)
		}
		return u, cause
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return u, &ExitError{Cmd: c.Path, State: ee.ProcessState, Tail: tail(logFile)}
		}
		return u, err
	}
	return u, nil
}

// tailBytes is how much of a failed program's output is read back for
// its error message.
const tailBytes = 2048

// tail returns the last lines, at most three, of a program's output.
func tail(f *os.File) string {
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-tailBytes, 0)
	buf := make([]byte, fi.Size()-off)
	n, _ := f.ReadAt(buf, off) // a short read just shortens the message
	lines := bytes.Split(bytes.TrimSpace(buf[:n]), []byte("\n"))
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}

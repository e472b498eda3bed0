package logging_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/logging"
)

// logAll logs one record at each level.
func logAll(l *slog.Logger) {
	l.Debug("debug record", "uri", "rsync://a/b")
	l.Info("info record")
	l.Warn("warn record", "repo", "x")
	l.Error("error record")
}

func TestLevels(t *testing.T) {
	tests := []struct {
		level string
		want  []string // records that appear
	}{
		{"off", nil},
		{"error", []string{"error"}},
		{"warn", []string{"warn", "error"}},
		{"info", []string{"info", "warn", "error"}},
		{"debug", []string{"debug", "info", "warn", "error"}},
	}
	for _, tc := range tests {
		t.Run(tc.level, func(t *testing.T) {
			var stderr bytes.Buffer
			l, closeLog, err := logging.New(logging.Options{Level: tc.level, Target: "stderr"}, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			logAll(l)
			closeLog()
			for _, name := range []string{"debug", "info", "warn", "error"} {
				has := strings.Contains(stderr.String(), name+" record")
				want := strings.Contains(strings.Join(tc.want, " "), name)
				if has != want {
					t.Errorf("%s record logged: %v, want %v\n%s", name, has, want, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "time=") {
				t.Errorf("standard error lines carry the time:\n%s", stderr.String())
			}
		})
	}
}

func TestTargets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rovd.log")
	tests := []struct {
		name       string
		opt        logging.Options
		wantStderr bool
	}{
		{"empty target is default", logging.Options{Level: "warn"}, true},
		{"default is standard error", logging.Options{Level: "warn", Target: "default"}, true},
		{"stderr", logging.Options{Level: "warn", Target: "stderr"}, true},
		{"file", logging.Options{Level: "warn", Target: "file", File: file}, false},
		{"file - is standard error", logging.Options{Level: "warn", Target: "file", File: "-"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			l, closeLog, err := logging.New(tc.opt, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			l.Warn("hello", "uri", "rsync://x/y")
			closeLog()
			if got := strings.Contains(stderr.String(), "msg=hello uri=rsync://x/y"); got != tc.wantStderr {
				t.Errorf("on standard error: %v, want %v (%q)", got, tc.wantStderr, stderr.String())
			}
		})
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "level=WARN msg=hello") || !strings.Contains(string(data), "time=") {
		t.Errorf("log file: %q", data)
	}
	// A second logger appends.
	l, closeLog, err := logging.New(logging.Options{Level: "warn", Target: "file", File: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Warn("again")
	closeLog()
	data, _ = os.ReadFile(file)
	if strings.Count(string(data), "\n") != 2 || !strings.Contains(string(data), "msg=again") {
		t.Errorf("log file after a second run: %q", data)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opt  logging.Options
		want string
	}{
		{"unknown level", logging.Options{Level: "trace"}, `log-level: unknown log level "trace"`},
		{"unknown target", logging.Options{Level: "warn", Target: "journal"}, `log: unknown log target "journal"`},
		{"file without path", logging.Options{Level: "warn", Target: "file"}, "log-file: needed"},
		{"file in a missing directory", logging.Options{Level: "warn", Target: "file", File: filepath.Join(dir, "no", "x.log")}, "log-file: open"},
		{"unknown facility", logging.Options{Level: "warn", Target: "syslog", Facility: "local9"}, `syslog-facility: unknown syslog facility "local9"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := logging.New(tc.opt, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFacilities(t *testing.T) {
	for name, want := range map[string]int{"kern": 0, "user": 1, "daemon": 3, "auth": 4, "authpriv": 10, "local0": 16, "local7": 23} {
		p, err := logging.ParseFacility(name)
		if err != nil || int(p)>>3 != want {
			t.Errorf("%s: %d, %v; want facility %d", name, p>>3, err, want)
		}
	}
	for _, name := range []string{"", "DAEMON", "local8", "ntp"} {
		if _, err := logging.ParseFacility(name); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
}

// TestSyslog logs through a unix datagram socket standing in for the
// syslog daemon and checks facility, severity and text of each message.
func TestSyslog(t *testing.T) {
	// Socket paths are limited to about 100 bytes; t.TempDir may be longer.
	dir, err := os.MkdirTemp("", "rovd-syslog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Skipf("no unix datagram sockets here: %v", err)
	}
	defer conn.Close()
	defer logging.DialSyslogAt(path)()

	tests := []struct {
		name     string
		opt      logging.Options
		facility int
	}{
		{"syslog target", logging.Options{Level: "info", Target: "syslog", Facility: "local3"}, 19},
		{"default facility is daemon", logging.Options{Level: "info", Target: "syslog"}, 3},
		{"default target of a daemon", logging.Options{Level: "info", Daemon: true, Facility: "user"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, closeLog, err := logging.New(tc.opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeLog()
			l.With("tal", "ripe").Error("run failed", "err", "no TALs")
			l.Debug("not logged at info")
			l.Info("done")
			msgs := read(t, conn, 2)
			// Priority is facility*8 + severity (RFC 5424 §6.2.1): 3 for
			// error, 6 for info.
			tag := fmt.Sprintf("rovd[%d]: ", os.Getpid())
			if want := fmt.Sprintf("<%d>", tc.facility*8+3); !strings.HasPrefix(msgs[0], want) ||
				!strings.HasSuffix(msgs[0], tag+`msg="run failed" tal=ripe err="no TALs"`) {
				t.Errorf("first message %q, want priority %s", msgs[0], want)
			}
			if want := fmt.Sprintf("<%d>", tc.facility*8+6); !strings.HasPrefix(msgs[1], want) || !strings.HasSuffix(msgs[1], tag+"msg=done") {
				t.Errorf("second message %q, want priority %s", msgs[1], want)
			}
		})
	}
}

func read(t *testing.T, conn *net.UnixConn, n int) []string {
	t.Helper()
	var msgs []string
	buf := make([]byte, 4096)
	for range n {
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(msgs), err)
		}
		msgs = append(msgs, strings.TrimSuffix(string(buf[:k]), "\n"))
	}
	return msgs
}

// TestReopen renames the log file as logrotate does and reopens it: the
// records before go to the renamed file, those after to a new one. A
// path that cannot be opened keeps the old file.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rovd.log")
	l, err := logging.Open(logging.Options{Level: "info", Target: "file", File: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.File() != file {
		t.Errorf("File() = %q, want %q", l.File(), file)
	}
	l.Logger.Info("before")
	rotated := file + ".1"
	if err := os.Rename(file, rotated); err != nil {
		t.Fatal(err)
	}
	l.Logger.Info("still old")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Logger.Info("after")

	l.SetFile(filepath.Join(dir, "missing", "rovd.log"))
	if err := l.Reopen(); err == nil || !strings.Contains(err.Error(), "log-file: open") {
		t.Errorf("reopen in a missing directory: %v", err)
	}
	l.SetFile("")
	if err := l.Reopen(); err == nil || !strings.Contains(err.Error(), "cannot be reopened") {
		t.Errorf("reopen without a path: %v", err)
	}
	l.Logger.Info("kept")
	l.Close()
	l.Logger.Info("after close") // dropped, no panic

	for _, tc := range []struct {
		path      string
		want, not []string
	}{
		{rotated, []string{"msg=before", `msg="still old"`}, []string{"msg=after", "msg=kept"}},
		{file, []string{"msg=after", "msg=kept"}, []string{"msg=before", "close"}},
	} {
		data, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(data), w) {
				t.Errorf("%s lacks %s:\n%s", tc.path, w, data)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(string(data), w) {
				t.Errorf("%s has %s:\n%s", tc.path, w, data)
			}
		}
	}
}

// TestReopenWithoutFile checks that the targets without a file ignore
// Reopen and SetFile.
func TestReopenWithoutFile(t *testing.T) {
	var stderr bytes.Buffer
	l, err := logging.Open(logging.Options{Level: "warn", Target: "stderr"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetFile("/nonexistent/x")
	if err := l.Reopen(); err != nil || l.File() != "" {
		t.Errorf("Reopen: %v, File %q", err, l.File())
	}
	l.Logger.Warn("hello")
	if !strings.Contains(stderr.String(), "msg=hello") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// TestReopenWhileLogging reopens the file while other goroutines log:
// every record lands whole in one of the files (run with -race).
func TestReopenWhileLogging(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rovd.log")
	l, err := logging.Open(logging.Options{Level: "info", Target: "file", File: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers, records, rotations = 4, 200, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range records {
				l.Logger.Info("record", "w", w, "i", i)
			}
		})
	}
	for i := range rotations {
		if err := os.Rename(file, fmt.Sprintf("%s.%d", file, i)); err != nil {
			t.Fatal(err)
		}
		if err := l.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	l.Close()
	files, _ := filepath.Glob(file + "*")
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if line == "" {
				continue
			}
			if !strings.HasPrefix(line, "time=") || !strings.Contains(line, "msg=record w=") {
				t.Errorf("torn line in %s: %q", f, line)
			}
			n++
		}
	}
	if n != writers*records {
		t.Errorf("%d records in %d files, want %d", n, len(files), writers*records)
	}
}

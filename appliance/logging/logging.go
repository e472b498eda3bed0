package logging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strings"
	"sync"
)

// Levels are the values of log-level, from the quietest: "off" is what
// -qq sets; the others are the manual's.
var Levels = []string{"off", "error", "warn", "info", "debug"}

// Targets are the values of the log key.
var Targets = []string{"default", "stderr", "syslog", "file"}

// facilities are the syslog facilities by the names syslog.conf uses.
var facilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL, "daemon": syslog.LOG_DAEMON,
	"auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG, "lpr": syslog.LOG_LPR, "news": syslog.LOG_NEWS,
	"uucp": syslog.LOG_UUCP, "cron": syslog.LOG_CRON, "authpriv": syslog.LOG_AUTHPRIV, "ftp": syslog.LOG_FTP,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3,
	"local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// levelOff is above every level a record can have: a logger at this
// level logs nothing.
const levelOff = slog.Level(1 << 10)

// Options are the logging settings.
type Options struct {
	// Level is one of Levels.
	Level string
	// Target is one of Targets; empty means "default".
	Target string
	// File is the file appended to with target "file"; "-" means
	// standard error, as for the manual's --logfile.
	File string
	// Facility is the syslog facility; empty means "daemon".
	Facility string
	// Daemon says that the process runs detached: target "default" then
	// means syslog instead of standard error.
	Daemon bool
}

// ParseLevel returns the slog level of a log-level value.
func ParseLevel(s string) (slog.Level, error) {
	switch s {
	case "off":
		return levelOff, nil
	case "error":
		return slog.LevelError, nil
	case "warn":
		return slog.LevelWarn, nil
	case "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	}
	return 0, fmt.Errorf("unknown log level %q (have %s)", s, strings.Join(Levels, ", "))
}

// ParseFacility returns the syslog facility of a syslog-facility value.
func ParseFacility(s string) (syslog.Priority, error) {
	if f, ok := facilities[s]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("unknown syslog facility %q", s)
}

// CheckTarget reports whether s is one of Targets.
func CheckTarget(s string) error {
	for _, t := range Targets {
		if s == t {
			return nil
		}
	}
	return fmt.Errorf("unknown log target %q (have %s)", s, strings.Join(Targets, ", "))
}

// dialSyslog connects to the system's syslog daemon; tests replace it.
var dialSyslog = func(p syslog.Priority, tag string) (*syslog.Writer, error) {
	return syslog.New(p, tag)
}

// Log is a logger together with the target it writes to, for the
// server: its log file can be reopened (SIGHUP) and moved (chroot).
type Log struct {
	// Logger writes to the target.
	Logger *slog.Logger
	// file is the log file of target "file", nil for other targets.
	file  *reopenFile
	close func()
}

// New builds the logger o describes. Records go to stderr for the
// targets "stderr" and "default" (unless o.Daemon). The returned
// function releases the log file or syslog connection.
func New(o Options, stderr io.Writer) (*slog.Logger, func(), error) {
	l, err := Open(o, stderr)
	if err != nil {
		return nil, nil, err
	}
	return l.Logger, l.Close, nil
}

// Open is New for a process that reopens its log file: the server.
func Open(o Options, stderr io.Writer) (*Log, error) {
	level, err := ParseLevel(o.Level)
	if err != nil {
		return nil, fmt.Errorf("log-level: %w", err)
	}
	if level == levelOff {
		return &Log{Logger: slog.New(slog.DiscardHandler), close: func() {}}, nil
	}
	target := o.Target
	switch {
	case target == "" || target == "default":
		target = "stderr"
		if o.Daemon {
			target = "syslog"
		}
	case target == "file" && o.File == "-":
		target = "stderr"
	}
	switch target {
	case "stderr":
		h := slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime})
		return &Log{Logger: slog.New(h), close: func() {}}, nil
	case "file":
		if o.File == "" {
			return nil, fmt.Errorf("log-file: needed for log target \"file\"")
		}
		f, err := openLogFile(o.File)
		if err != nil {
			return nil, fmt.Errorf("log-file: %w", err)
		}
		rf := &reopenFile{path: o.File, f: f}
		h := slog.NewTextHandler(rf, &slog.HandlerOptions{Level: level})
		return &Log{Logger: slog.New(h), file: rf, close: rf.close}, nil
	case "syslog":
		fac := syslog.LOG_DAEMON
		if o.Facility != "" {
			if fac, err = ParseFacility(o.Facility); err != nil {
				return nil, fmt.Errorf("syslog-facility: %w", err)
			}
		}
		w, err := dialSyslog(fac|syslog.LOG_WARNING, "rovd")
		if err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
		return &Log{Logger: slog.New(newSyslogHandler(w, level)), close: func() { _ = w.Close() }}, nil
	}
	return nil, fmt.Errorf("log: %w", CheckTarget(o.Target))
}

// Close releases the log file or syslog connection.
func (l *Log) Close() { l.close() }

// File returns the path Reopen opens, "" unless the target is a file.
func (l *Log) File() string {
	if l.file == nil {
		return ""
	}
	l.file.mu.Lock()
	defer l.file.mu.Unlock()
	return l.file.path
}

// SetFile changes the path the next Reopen opens: after chroot, the
// same file's path under the new root; "" when the file cannot be
// reached any more, and Reopen then fails. Without a log file it does
// nothing.
func (l *Log) SetFile(path string) {
	if l.file == nil {
		return
	}
	l.file.mu.Lock()
	defer l.file.mu.Unlock()
	l.file.path = path
}

// Reopen closes the log file and opens its path afresh (creating it),
// so that a file renamed by logrotate is let go and records go to the
// new one. If the path cannot be opened the old file stays in use and
// the error says why. Without a log file Reopen does nothing.
func (l *Log) Reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.reopen()
}

// reopenFile is a log file that can be swapped for a fresh one while
// records are written.
type reopenFile struct {
	mu   sync.Mutex
	path string
	f    *os.File // nil once closed
}

func openLogFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
}

// Write writes one record; the handler hands over each record in one
// call. Records written after close are dropped.
func (r *reopenFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return len(p), nil
	}
	return r.f.Write(p)
}

func (r *reopenFile) reopen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.path == "" {
		return errors.New("log-file: cannot be reopened: no path reaches it")
	}
	f, err := openLogFile(r.path)
	if err != nil {
		return fmt.Errorf("log-file: %w", err)
	}
	if r.f != nil {
		_ = r.f.Close() // written unbuffered: nothing is lost on close
	}
	r.f = f
	return nil
}

func (r *reopenFile) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		_ = r.f.Close() // written unbuffered: nothing is lost on close
		r.f = nil
	}
}

// dropTime leaves the time out of log lines: a terminal does not need
// it and syslog adds its own.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// syslogHandler sends each record to syslog with the severity of its
// level, formatted as a text handler would without time and level
// (syslog carries both itself).
type syslogHandler struct {
	w *syslog.Writer
	// mu guards buf, which every handler derived by WithAttrs and
	// WithGroup shares with its text handler.
	mu   *sync.Mutex
	buf  *bytes.Buffer
	text slog.Handler
}

func newSyslogHandler(w *syslog.Writer, level slog.Level) *syslogHandler {
	buf := new(bytes.Buffer)
	drop := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return slog.Attr{}
		}
		return a
	}
	return &syslogHandler{w: w, mu: new(sync.Mutex), buf: buf,
		text: slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: drop})}
}

func (h *syslogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.text.Enabled(ctx, l)
}

func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	line := strings.TrimSuffix(h.buf.String(), "\n")
	// The severities of RFC 5424 §6.2.1 that match slog's levels.
	switch {
	case r.Level >= slog.LevelError:
		return h.w.Err(line)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(line)
	case r.Level >= slog.LevelInfo:
		return h.w.Info(line)
	}
	return h.w.Debug(line)
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &syslogHandler{w: h.w, mu: h.mu, buf: h.buf, text: h.text.WithAttrs(as)}
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	return &syslogHandler{w: h.w, mu: h.mu, buf: h.buf, text: h.text.WithGroup(name)}
}

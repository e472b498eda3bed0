package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/rovd/rovd/appliance/logging"
	"github.com/rovd/rovd/engine"
)

// setting is one config file key: the option that overrides it, how
// its value is read and written, and what values it takes.
type setting struct {
	key string
	// flag is the long option setting the same value, "" for a key only.
	flag string
	v    value
	// valid checks the value on its own; nil accepts every value of
	// the type.
	valid func(c *Config) error
}

// settings are the config file keys of the manual's "Configuration
// File" section, Routinator's newer ones (enable-aspa, enable-bgpsec,
// max-ca-depth, the TLS listeners) and ours (rrdp-total-timeout,
// max-vrp-drop, max-vrp-drop-runs, source), in the
// order rovd config prints them.
var settings = []setting{
	{"repository-dir", "repository-dir", path(func(c *Config) *string { return &c.RepositoryDir }), notEmpty(func(c *Config) string { return c.RepositoryDir })},
	{"tal-dir", "tal-dir", path(func(c *Config) *string { return &c.TALDir }), notEmpty(func(c *Config) string { return c.TALDir })},
	{"tal-label", "", labels(func(c *Config) *map[string]string { return &c.TALLabels }), nil},
	{"exceptions", "exceptions", paths(func(c *Config) *[]string { return &c.Exceptions }), nil},
	{"strict", "strict", boolean(func(c *Config) *bool { return &c.Strict }), nil},
	{"stale", "stale", str(func(c *Config) *string { return &c.Stale }), policy(func(c *Config) string { return c.Stale })},
	{"unsafe-vrps", "unsafe-vrps", str(func(c *Config) *string { return &c.UnsafeVRPs }), policy(func(c *Config) string { return c.UnsafeVRPs })},
	{"unknown-objects", "unknown-objects", str(func(c *Config) *string { return &c.UnknownObjects }), policy(func(c *Config) string { return c.UnknownObjects })},
	{"allow-dubious-hosts", "allow-dubious-hosts", boolean(func(c *Config) *bool { return &c.AllowDubiousHosts }), nil},
	{"disable-rsync", "disable-rsync", boolean(func(c *Config) *bool { return &c.DisableRsync }), nil},
	{"rsync-command", "rsync-command", str(func(c *Config) *string { return &c.RsyncCommand }), notEmpty(func(c *Config) string { return c.RsyncCommand })},
	{"rsync-args", "", optStrs(func(c *Config) *[]string { return &c.RsyncArgs }), nil},
	{"rsync-timeout", "rsync-timeout", seconds(func(c *Config) *Seconds { return &c.RsyncTimeout }), secondsIn(func(c *Config) Seconds { return c.RsyncTimeout }, 0, maxSeconds)},
	{"disable-rrdp", "disable-rrdp", boolean(func(c *Config) *bool { return &c.DisableRRDP }), nil},
	{"rrdp-max-delta-count", "rrdp-max-delta-count", integer(func(c *Config) *int { return &c.RRDPMaxDeltaCount }), intIn(func(c *Config) int { return c.RRDPMaxDeltaCount }, 1, math.MaxInt32)},
	{"rrdp-timeout", "rrdp-timeout", seconds(func(c *Config) *Seconds { return &c.RRDPTimeout }), secondsIn(func(c *Config) Seconds { return c.RRDPTimeout }, 0, maxSeconds)},
	{"rrdp-fallback-time", "rrdp-fallback-time", seconds(func(c *Config) *Seconds { return &c.RRDPFallbackTime }), secondsIn(func(c *Config) Seconds { return c.RRDPFallbackTime }, 0, maxSeconds)},
	{"rrdp-connect-timeout", "rrdp-connect-timeout", optSeconds(func(c *Config) *Seconds { return &c.RRDPConnectTimeout }), secondsIn(func(c *Config) Seconds { return c.RRDPConnectTimeout }, 0, maxSeconds)},
	{"rrdp-total-timeout", "rrdp-total-timeout", seconds(func(c *Config) *Seconds { return &c.RRDPTotalTimeout }), secondsIn(func(c *Config) Seconds { return c.RRDPTotalTimeout }, 0, maxSeconds)},
	{"rrdp-local-addr", "rrdp-local-addr", str(func(c *Config) *string { return &c.RRDPLocalAddr }), func(c *Config) error {
		if _, err := netip.ParseAddr(c.RRDPLocalAddr); c.RRDPLocalAddr != "" && err != nil {
			return fmt.Errorf("%q is not an IP address", c.RRDPLocalAddr)
		}
		return nil
	}},
	{"rrdp-root-certs", "rrdp-root-cert", paths(func(c *Config) *[]string { return &c.RRDPRootCerts }), nil},
	{"rrdp-proxies", "rrdp-proxy", strs(func(c *Config) *[]string { return &c.RRDPProxies }), func(c *Config) error {
		for _, p := range c.RRDPProxies {
			if err := checkProxy(p); err != nil {
				return err
			}
		}
		return nil
	}},
	{"rrdp-keep-responses", "rrdp-keep-responses", path(func(c *Config) *string { return &c.RRDPKeepResponses }), nil},
	{"rrdp-disable-gzip", "rrdp-disable-gzip", boolean(func(c *Config) *bool { return &c.RRDPDisableGzip }), nil},
	{"max-object-size", "max-object-size", integer(func(c *Config) *int64 { return &c.MaxObjectSize }), func(c *Config) error {
		if c.MaxObjectSize < 0 {
			return fmt.Errorf("%d is negative", c.MaxObjectSize)
		}
		return nil
	}},
	{"max-ca-depth", "max-ca-depth", integer(func(c *Config) *int { return &c.MaxCADepth }), intIn(func(c *Config) int { return c.MaxCADepth }, 1, math.MaxInt32)},
	{"enable-aspa", "enable-aspa", boolean(func(c *Config) *bool { return &c.EnableASPA }), nil},
	{"enable-bgpsec", "enable-bgpsec", boolean(func(c *Config) *bool { return &c.EnableBGPsec }), nil},
	{"dirty", "dirty", boolean(func(c *Config) *bool { return &c.Dirty }), nil},
	{"validation-threads", "validation-threads", integer(func(c *Config) *int { return &c.ValidationThreads }), intIn(func(c *Config) int { return c.ValidationThreads }, 1, maxSmallCount)},
	{"log-level", "", str(func(c *Config) *string { return &c.LogLevel }), func(c *Config) error {
		_, err := logging.ParseLevel(c.LogLevel)
		return err
	}},
	{"log", "", str(func(c *Config) *string { return &c.Log }), func(c *Config) error { return logging.CheckTarget(c.Log) }},
	{"log-file", "logfile", path(func(c *Config) *string { return &c.LogFile }), nil},
	{"syslog-facility", "syslog-facility", str(func(c *Config) *string { return &c.SyslogFacility }), func(c *Config) error {
		_, err := logging.ParseFacility(c.SyslogFacility)
		return err
	}},
	{"rtr-listen", "rtr", strs(func(c *Config) *[]string { return &c.RTRListen }), listeners(func(c *Config) []string { return c.RTRListen })},
	{"rtr-tls-listen", "rtr-tls", strs(func(c *Config) *[]string { return &c.RTRTLSListen }), listeners(func(c *Config) []string { return c.RTRTLSListen })},
	{"http-listen", "http", strs(func(c *Config) *[]string { return &c.HTTPListen }), listeners(func(c *Config) []string { return c.HTTPListen })},
	{"http-tls-listen", "http-tls", strs(func(c *Config) *[]string { return &c.HTTPTLSListen }), listeners(func(c *Config) []string { return c.HTTPTLSListen })},
	{"listen-systemd", "listen-systemd", boolean(func(c *Config) *bool { return &c.ListenSystemd }), nil},
	{"rtr-tcp-keepalive", "rtr-tcp-keepalive", seconds(func(c *Config) *Seconds { return &c.RTRTCPKeepalive }), secondsIn(func(c *Config) Seconds { return c.RTRTCPKeepalive }, 0, maxSeconds)},
	{"rtr-client-metrics", "rtr-client-metrics", boolean(func(c *Config) *bool { return &c.RTRClientMetrics }), nil},
	{"rtr-tls-key", "rtr-tls-key", path(func(c *Config) *string { return &c.RTRTLSKey }), nil},
	{"rtr-tls-cert", "rtr-tls-cert", path(func(c *Config) *string { return &c.RTRTLSCert }), nil},
	{"http-tls-key", "http-tls-key", path(func(c *Config) *string { return &c.HTTPTLSKey }), nil},
	{"http-tls-cert", "http-tls-cert", path(func(c *Config) *string { return &c.HTTPTLSCert }), nil},
	{"refresh", "refresh", seconds(func(c *Config) *Seconds { return &c.Refresh }), secondsIn(func(c *Config) Seconds { return c.Refresh }, minRefresh, maxRefresh)},
	{"retry", "retry", seconds(func(c *Config) *Seconds { return &c.Retry }), secondsIn(func(c *Config) Seconds { return c.Retry }, minRetry, maxRetry)},
	{"expire", "expire", seconds(func(c *Config) *Seconds { return &c.Expire }), secondsIn(func(c *Config) Seconds { return c.Expire }, minExpire, maxExpire)},
	{"history-size", "history", integer(func(c *Config) *int { return &c.HistorySize }), intIn(func(c *Config) int { return c.HistorySize }, 0, maxSmallCount)},
	{"max-vrp-drop", "max-vrp-drop", integer(func(c *Config) *int { return &c.MaxVRPDrop }), intIn(func(c *Config) int { return c.MaxVRPDrop }, 0, 100)},
	{"max-vrp-drop-runs", "max-vrp-drop-runs", integer(func(c *Config) *int { return &c.MaxVRPDropRuns }), intIn(func(c *Config) int { return c.MaxVRPDropRuns }, 1, maxSmallCount)},
	{"source", "source", str(func(c *Config) *string { return &c.Source }), func(c *Config) error {
		if c.Source == "" {
			return nil
		}
		return checkSource(c.Source)
	}},
	{"pid-file", "pid-file", path(func(c *Config) *string { return &c.PIDFile }), nil},
	{"working-dir", "working-dir", path(func(c *Config) *string { return &c.WorkingDir }), nil},
	{"chroot", "chroot", path(func(c *Config) *string { return &c.Chroot }), nil},
	{"user", "user", str(func(c *Config) *string { return &c.User }), nil},
	{"group", "group", str(func(c *Config) *string { return &c.Group }), nil},
}

// RFC 8210 §6 bounds the RTR timing parameters; refresh is also the
// RTR refresh interval.
const (
	minRefresh, maxRefresh = 1, 86400
	minRetry, maxRetry     = 1, 7200
	minExpire, maxExpire   = 600, 172800
)

// maxSeconds is the longest time a Seconds can hold as a time.Duration.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// maxSmallCount bounds validation-threads and history-size, as
// Routinator does (the range of a 16-bit integer).
const maxSmallCount = math.MaxUint16

// maxConfigSize bounds the config file: Routinator's example file, with
// every key explained at length, is about 20 kB.
const maxConfigSize = 1 << 20

func settingByKey(key string) *setting {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i]
		}
	}
	return nil
}

// readFile reads a config file of at most maxConfigSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}

// load applies the config file at path, whose content is data, to c:
// each key the command line did not override. Every key is checked,
// overridden or not, and the error names the file and the key.
func (c *Config) load(data []byte, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	// Relative paths in the file are relative to its directory.
	dir := filepath.Dir(abs)
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return fmt.Errorf("config file %s, line %d, column %d: %s", path, row, col, strings.TrimPrefix(de.Error(), "toml: "))
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var unknown []string
	for k := range doc {
		if settingByKey(k) == nil {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		s := ""
		if len(unknown) > 1 {
			s = "s"
		}
		return fmt.Errorf("config file %s: unknown key%s %s", path, s, strings.Join(unknown, ", "))
	}
	changed := c.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	// Decode into a copy: each decode replaces a whole field, so the copy
	// shares nothing that the file changes.
	file := *c
	set := map[string]bool{}
	for _, s := range settings {
		v, ok := doc[s.key]
		if !ok {
			continue
		}
		if err := s.v.decode(&file, v, dir); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, s.key, err)
		}
		if s.valid != nil {
			if err := s.valid(&file); err != nil {
				return fmt.Errorf("config file %s: %s: %w", path, s.key, err)
			}
		}
		set[s.key] = true
	}
	// The manual calls both directories mandatory in a config file;
	// the command line may give them instead.
	for _, key := range []string{"repository-dir", "tal-dir"} {
		if !set[key] && !changed(key) && !changed("base-dir") {
			return fmt.Errorf("config file %s: %s is mandatory", path, key)
		}
	}
	for _, s := range settings {
		if set[s.key] && (s.flag == "" || !changed(s.flag)) {
			s.v.copy(c, &file)
		}
	}
	c.file, c.fromFile, c.ConfigFile = path, set, path
	return nil
}

// WriteTOML writes c as a config file that reads back to the same
// settings: every key, in the order of the settings table, leaving out
// only those whose value is the same as the key's absence (an empty
// string or path, rsync-args without a value, no TAL labels).
func (c *Config) WriteTOML(w io.Writer) error {
	var b strings.Builder
	for _, s := range settings {
		text, ok, err := s.v.encode(c)
		if err != nil {
			return fmt.Errorf("%s: %w", s.key, err)
		}
		if ok {
			fmt.Fprintf(&b, "%s = %s\n", s.key, text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// value reads and writes one field of a Config.
type value interface {
	// decode sets the field from a TOML value; dir is the directory
	// relative paths are relative to.
	decode(c *Config, v any, dir string) error
	// encode returns the field as a TOML value, or false to leave the
	// key out.
	encode(c *Config) (string, bool, error)
	copy(dst, src *Config)
	// absolute makes a path absolute (relative to the current directory).
	absolute(c *Config) error
}

// field is a value of Go type T.
type field[T any] struct {
	ptr    func(*Config) *T
	from   func(v any, dir string) (T, error)
	to     func(T) (string, bool, error)
	absFn  func(T) (T, error)
	copyFn func(T) T
}

func (f field[T]) decode(c *Config, v any, dir string) error {
	x, err := f.from(v, dir)
	if err != nil {
		return err
	}
	*f.ptr(c) = x
	return nil
}

func (f field[T]) encode(c *Config) (string, bool, error) { return f.to(*f.ptr(c)) }

func (f field[T]) copy(dst, src *Config) {
	v := *f.ptr(src)
	if f.copyFn != nil {
		v = f.copyFn(v)
	}
	*f.ptr(dst) = v
}

func (f field[T]) absolute(c *Config) error {
	if f.absFn == nil {
		return nil
	}
	v, err := f.absFn(*f.ptr(c))
	if err != nil {
		return err
	}
	*f.ptr(c) = v
	return nil
}

// typeName describes a decoded TOML value for an error message.
func typeName(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

func boolean(ptr func(*Config) *bool) field[bool] {
	return field[bool]{ptr: ptr,
		from: func(v any, _ string) (bool, error) {
			b, ok := v.(bool)
			if !ok {
				return false, fmt.Errorf("want a boolean, not %s", typeName(v))
			}
			return b, nil
		},
		to: func(b bool) (string, bool, error) { return strconv.FormatBool(b), true, nil },
	}
}

func integer[T int | int64](ptr func(*Config) *T) field[T] {
	return field[T]{ptr: ptr,
		from: func(v any, _ string) (T, error) {
			n, ok := v.(int64)
			if !ok {
				return 0, fmt.Errorf("want an integer, not %s", typeName(v))
			}
			if int64(T(n)) != n {
				return 0, fmt.Errorf("%d is out of range", n)
			}
			return T(n), nil
		},
		to: func(n T) (string, bool, error) { return strconv.FormatInt(int64(n), 10), true, nil },
	}
}

func seconds(ptr func(*Config) *Seconds) field[Seconds] {
	return field[Seconds]{ptr: ptr,
		from: func(v any, _ string) (Seconds, error) {
			n, ok := v.(int64)
			if !ok {
				return 0, fmt.Errorf("want an integer number of seconds, not %s", typeName(v))
			}
			return Seconds(n), nil
		},
		to: func(n Seconds) (string, bool, error) { return strconv.FormatInt(int64(n), 10), true, nil },
	}
}

// optSeconds is a time whose absence means something else (rrdp-timeout
// for rrdp-connect-timeout): zero leaves the key out.
func optSeconds(ptr func(*Config) *Seconds) field[Seconds] {
	f := seconds(ptr)
	f.to = func(n Seconds) (string, bool, error) { return strconv.FormatInt(int64(n), 10), n != 0, nil }
	return f
}

func decodeString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, not %s", typeName(v))
	}
	return s, nil
}

func decodeStrings(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of strings, not %s", typeName(v))
	}
	out := make([]string, 0, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("item %d: want a string, not %s", i+1, typeName(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// str is a string; empty leaves the key out.
func str(ptr func(*Config) *string) field[string] {
	return field[string]{ptr: ptr,
		from: func(v any, _ string) (string, error) { return decodeString(v) },
		to: func(s string) (string, bool, error) {
			q, err := quote(s)
			return q, s != "", err
		},
	}
}

// joinPath resolves a path of the config file against its directory.
func joinPath(p, dir string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func absPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	return filepath.Abs(p)
}

// path is a file or directory name; empty leaves the key out.
func path(ptr func(*Config) *string) field[string] {
	f := str(ptr)
	f.from = func(v any, dir string) (string, error) {
		s, err := decodeString(v)
		return joinPath(s, dir), err
	}
	f.absFn = absPath
	return f
}

// strs is an array of strings.
func strs(ptr func(*Config) *[]string) field[[]string] {
	return field[[]string]{ptr: ptr,
		from: func(v any, _ string) ([]string, error) { return decodeStrings(v) },
		to: func(a []string) (string, bool, error) {
			q, err := quoteAll(a)
			return q, true, err
		},
		copyFn: slices.Clone[[]string],
	}
}

// optStrs is an array of strings whose absence means something else
// than an empty array: nil leaves the key out.
func optStrs(ptr func(*Config) *[]string) field[[]string] {
	f := strs(ptr)
	f.to = func(a []string) (string, bool, error) {
		q, err := quoteAll(a)
		return q, a != nil, err
	}
	return f
}

// paths is an array of file names.
func paths(ptr func(*Config) *[]string) field[[]string] {
	f := strs(ptr)
	f.from = func(v any, dir string) ([]string, error) {
		a, err := decodeStrings(v)
		for i := range a {
			a[i] = joinPath(a[i], dir)
		}
		return a, err
	}
	f.absFn = func(a []string) ([]string, error) {
		if a == nil {
			return nil, nil
		}
		out := make([]string, len(a))
		for i, p := range a {
			var err error
			if out[i], err = absPath(p); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return f
}

// labels is tal-label: an array of [TAL file name, label] pairs.
func labels(ptr func(*Config) *map[string]string) field[map[string]string] {
	return field[map[string]string]{ptr: ptr,
		from: func(v any, _ string) (map[string]string, error) {
			a, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("want an array of [file name, label] pairs, not %s", typeName(v))
			}
			m := make(map[string]string, len(a))
			for i, e := range a {
				pair, err := decodeStrings(e)
				if err != nil || len(pair) != 2 {
					return nil, fmt.Errorf("item %d: want a [file name, label] pair of strings", i+1)
				}
				name, label := pair[0], pair[1]
				switch {
				case !strings.HasSuffix(name, ".tal") || strings.ContainsRune(name, '/'):
					return nil, fmt.Errorf("item %d: %q is not a TAL file name (NAME.tal, without a directory)", i+1, name)
				case label == "":
					return nil, fmt.Errorf("item %d: empty label for %s", i+1, name)
				}
				if _, dup := m[name]; dup {
					return nil, fmt.Errorf("item %d: %s labelled twice", i+1, name)
				}
				m[name] = label
			}
			return m, nil
		},
		to: func(m map[string]string) (string, bool, error) {
			if len(m) == 0 {
				return "", false, nil
			}
			names := slices.Sorted(maps.Keys(m))
			items := make([]string, len(names))
			for i, n := range names {
				q, err := quoteAll([]string{n, m[n]})
				if err != nil {
					return "", false, err
				}
				items[i] = q
			}
			return "[" + strings.Join(items, ", ") + "]", true, nil
		},
	}
}

// quote writes s as a TOML basic string (TOML 1.0 "Basic strings").
func quote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8, which TOML needs", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

func quoteAll(a []string) (string, error) {
	q := make([]string, len(a))
	for i, s := range a {
		var err error
		if q[i], err = quote(s); err != nil {
			return "", err
		}
	}
	return "[" + strings.Join(q, ", ") + "]", nil
}

// Validators of the settings table.

func policy(get func(*Config) string) func(*Config) error {
	return func(c *Config) error {
		_, err := engine.ParsePolicy(get(c))
		return err
	}
}

func notEmpty(get func(*Config) string) func(*Config) error {
	return func(c *Config) error {
		if get(c) == "" {
			return errors.New("empty value")
		}
		return nil
	}
}

func intIn(get func(*Config) int, lo, hi int) func(*Config) error {
	return func(c *Config) error {
		if v := get(c); v < lo || v > hi {
			return fmt.Errorf("%d is out of range (%d to %d)", v, lo, hi)
		}
		return nil
	}
}

func secondsIn(get func(*Config) Seconds, lo, hi int64) func(*Config) error {
	return func(c *Config) error {
		if v := int64(get(c)); v < lo || v > hi {
			return fmt.Errorf("%d seconds is out of range (%d to %d)", v, lo, hi)
		}
		return nil
	}
}

func listeners(get func(*Config) []string) func(*Config) error {
	return func(c *Config) error {
		for _, a := range get(c) {
			if _, err := netip.ParseAddrPort(a); err != nil {
				return fmt.Errorf("%q is not an addr:port (IPv6 addresses in brackets)", a)
			}
		}
		return nil
	}
}

// checkSource accepts the relay's source: an HTTP or HTTPS URL.
func checkSource(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an HTTP or HTTPS URL", s)
	}
	return nil
}

// checkProxy accepts the proxy URIs the RRDP client can use.
func checkProxy(p string) error {
	u, err := url.Parse(p)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a proxy URI", p)
	}
	switch u.Scheme {
	case "http", "https", "socks", "socks5", "socks5h":
		return nil
	}
	return fmt.Errorf("%q: scheme must be http, https or socks5", p)
}

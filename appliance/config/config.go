// Package config holds rovd's settings: the global options, the server
// command's options and the config file keys of the Routinator manual,
// with its defaults, Routinator's newer keys, and ours. The command line
// overrides the config file (TOML; -c, else $HOME/.rovd.conf), which
// overrides the defaults; Resolve merges them and checks every value,
// and WriteTOML prints the result as a config file.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/logging"
	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
)

// Config is the effective configuration of a rovd process. The toml
// tags are the config file keys (the table in file.go reads and writes
// them); "-" marks options of the command line only.
type Config struct {
	// ConfigFile is the -c option: the config file to read. Empty means
	// $HOME/.rovd.conf if it exists; after Resolve it is the file read,
	// if any.
	ConfigFile string `toml:"-"`

	BaseDir       string   `toml:"-"`
	RepositoryDir string   `toml:"repository-dir"`
	TALDir        string   `toml:"tal-dir"`
	Exceptions    []string `toml:"exceptions"`
	// TALLabels maps a TAL file name (with .tal, without the directory)
	// to its name in the output; a config file key only, as in the
	// manual.
	TALLabels map[string]string `toml:"tal-label"`

	Strict            bool   `toml:"strict"`
	Stale             string `toml:"stale"`
	UnsafeVRPs        string `toml:"unsafe-vrps"`
	UnknownObjects    string `toml:"unknown-objects"`
	AllowDubiousHosts bool   `toml:"allow-dubious-hosts"`
	Fresh             bool   `toml:"-"`

	DisableRsync bool   `toml:"disable-rsync"`
	RsyncCommand string `toml:"rsync-command"`
	// RsyncArgs nil means rovd picks the arguments (the manual's
	// --contimeout probe); an empty list passes none.
	RsyncArgs    []string `toml:"rsync-args"`
	RsyncTimeout Seconds  `toml:"rsync-timeout"`

	DisableRRDP        bool     `toml:"disable-rrdp"`
	RRDPFallbackTime   Seconds  `toml:"rrdp-fallback-time"`
	RRDPMaxDeltaCount  int      `toml:"rrdp-max-delta-count"`
	RRDPTimeout        Seconds  `toml:"rrdp-timeout"`
	RRDPConnectTimeout Seconds  `toml:"rrdp-connect-timeout"`
	RRDPTotalTimeout   Seconds  `toml:"rrdp-total-timeout"`
	RRDPLocalAddr      string   `toml:"rrdp-local-addr"`
	RRDPRootCerts      []string `toml:"rrdp-root-certs"`
	RRDPProxies        []string `toml:"rrdp-proxies"`
	RRDPKeepResponses  string   `toml:"rrdp-keep-responses"`
	RRDPDisableGzip    bool     `toml:"rrdp-disable-gzip"`

	MaxObjectSize     int64 `toml:"max-object-size"`
	MaxCADepth        int   `toml:"max-ca-depth"`
	Dirty             bool  `toml:"dirty"`
	ValidationThreads int   `toml:"validation-threads"`
	EnableASPA        bool  `toml:"enable-aspa"`
	EnableBGPsec      bool  `toml:"enable-bgpsec"`

	// ValidationTime (ours) validates as of an instant instead of now.
	ValidationTime Time `toml:"-"`
	// ColdCache (ours) ignores the validation cache for one run.
	ColdCache bool `toml:"-"`

	// Verbose, Quiet and Syslog are the -v, -q and --syslog options;
	// Resolve folds them into LogLevel and Log.
	Verbose int  `toml:"-"`
	Quiet   int  `toml:"-"`
	Syslog  bool `toml:"-"`
	// LogLevel is one of logging.Levels, Log one of logging.Targets.
	LogLevel       string `toml:"log-level"`
	Log            string `toml:"log"`
	LogFile        string `toml:"log-file"`
	SyslogFacility string `toml:"syslog-facility"`

	// The server command's settings. Listen addresses are "addr:port"
	// with IPv6 addresses in brackets.
	RTRListen        []string `toml:"rtr-listen"`
	RTRTLSListen     []string `toml:"rtr-tls-listen"`
	HTTPListen       []string `toml:"http-listen"`
	HTTPTLSListen    []string `toml:"http-tls-listen"`
	ListenSystemd    bool     `toml:"listen-systemd"`
	RTRTCPKeepalive  Seconds  `toml:"rtr-tcp-keepalive"`
	RTRClientMetrics bool     `toml:"rtr-client-metrics"`
	RTRTLSKey        string   `toml:"rtr-tls-key"`
	RTRTLSCert       string   `toml:"rtr-tls-cert"`
	HTTPTLSKey       string   `toml:"http-tls-key"`
	HTTPTLSCert      string   `toml:"http-tls-cert"`
	// Refresh is the time between validation runs of the server, the
	// RTR refresh interval, and the least RRDP fallback time.
	Refresh     Seconds `toml:"refresh"`
	Retry       Seconds `toml:"retry"`
	Expire      Seconds `toml:"expire"`
	HistorySize int     `toml:"history-size"`
	// MaxVRPDrop (ours) is the collapse guard: a run that would shrink
	// the VRPs by more than this percentage of the published set is held
	// back until MaxVRPDropRuns runs in a row show the drop, or SIGUSR2.
	// Zero turns the guard off.
	MaxVRPDrop     int `toml:"max-vrp-drop"`
	MaxVRPDropRuns int `toml:"max-vrp-drop-runs"`
	// Source (ours) is the relay mode: the server serves the JSON VRP
	// list at this HTTP or HTTPS URL instead of validating, or follows
	// a /json-delta service by deltas when the URL's path ends in it.
	Source string `toml:"source"`

	// Daemon settings; Detach is the server command's -d only.
	Detach     bool   `toml:"-"`
	PIDFile    string `toml:"pid-file"`
	WorkingDir string `toml:"working-dir"`
	Chroot     string `toml:"chroot"`
	User       string `toml:"user"`
	Group      string `toml:"group"`

	// file is the config file read and fromFile the keys it set; changed
	// reports the options given on the command line. Errors name the
	// option or key a bad value came from.
	file     string
	fromFile map[string]bool
	changed  func(flag string) bool
}

// Seconds is a duration given in whole seconds, as every time option of
// the manual is.
type Seconds int64

// Duration converts s.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// Time is an instant given in RFC 3339 or as Unix seconds.
type Time struct{ time.Time }

// Set parses an RFC 3339 time or Unix seconds.
func (t *Time) Set(s string) error {
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		t.Time = v
		return nil
	}
	var secs int64
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && fmt.Sprint(secs) == s {
		t.Time = time.Unix(secs, 0).UTC()
		return nil
	}
	return fmt.Errorf("%q is neither an RFC 3339 time nor Unix seconds", s)
}

func (t *Time) String() string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// Type names the value in help output.
func (t *Time) Type() string { return "time" }

// Defaults returns the manual's defaults. The base directory is
// $HOME/.rpki-cache, with repository/ and tals/ below it.
func Defaults() Config {
	home, _ := os.UserHomeDir() // empty home: relative paths, as Routinator
	base := filepath.Join(home, ".rpki-cache")
	return Config{
		BaseDir:           base,
		RepositoryDir:     filepath.Join(base, "repository"),
		TALDir:            filepath.Join(base, "tals"),
		Exceptions:        []string{},
		Stale:             "reject",
		UnsafeVRPs:        "warn",
		UnknownObjects:    "warn",
		RsyncCommand:      "rsync",
		RsyncTimeout:      300,
		RRDPFallbackTime:  3600,
		RRDPMaxDeltaCount: 100,
		RRDPTimeout:       300,
		RRDPTotalTimeout:  1200,
		RRDPRootCerts:     []string{},
		RRDPProxies:       []string{},
		MaxObjectSize:     20_000_000,
		MaxCADepth:        engine.DefaultMaxCADepth,
		ValidationThreads: runtime.NumCPU(),
		LogLevel:          "warn",
		Log:               "default",
		SyslogFacility:    "daemon",
		RTRListen:         []string{},
		RTRTLSListen:      []string{},
		HTTPListen:        []string{},
		HTTPTLSListen:     []string{},
		RTRTCPKeepalive:   60,
		Refresh:           600,
		Retry:             600,
		Expire:            7200,
		HistorySize:       10,
		MaxVRPDropRuns:    3,
	}
}

// Flags registers the global options on fs, writing into c. Options
// given on the command line override what c held before parsing.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.StringVarP(&c.ConfigFile, "config", "c", c.ConfigFile, "read the config file at `path` (default $HOME/.rovd.conf if it exists)")
	fs.StringVarP(&c.BaseDir, "base-dir", "b", c.BaseDir, "base `dir`ectory for the repository and TALs")
	fs.StringVarP(&c.RepositoryDir, "repository-dir", "r", c.RepositoryDir, "`dir`ectory of the local repository")
	fs.StringVarP(&c.TALDir, "tal-dir", "t", c.TALDir, "`dir`ectory of the TALs")
	fs.StringArrayVarP(&c.Exceptions, "exceptions", "x", c.Exceptions, "local exceptions `file` (RFC 8416), repeatable")
	fs.BoolVar(&c.Strict, "strict", c.Strict, "decode objects strictly as the RFCs say")
	fs.StringVar(&c.Stale, "stale", c.Stale, "`policy` for stale manifests and CRLs: reject, warn, accept")
	fs.StringVar(&c.UnsafeVRPs, "unsafe-vrps", c.UnsafeVRPs, "`policy` for unsafe VRPs: reject, warn, accept")
	fs.StringVar(&c.UnknownObjects, "unknown-objects", c.UnknownObjects, "`policy` for objects of unknown type: reject, warn, accept")
	fs.BoolVar(&c.AllowDubiousHosts, "allow-dubious-hosts", c.AllowDubiousHosts, "allow localhost, IP addresses and ports in URIs")
	fs.BoolVar(&c.Fresh, "fresh", c.Fresh, "delete and re-initialize the local data storage first")
	fs.BoolVar(&c.DisableRsync, "disable-rsync", c.DisableRsync, "use RRDP only")
	fs.StringVar(&c.RsyncCommand, "rsync-command", c.RsyncCommand, "the rsync `command`")
	secondsVar(fs, &c.RsyncTimeout, "rsync-timeout", "`seconds` an rsync command may run")
	fs.BoolVar(&c.DisableRRDP, "disable-rrdp", c.DisableRRDP, "use rsync only")
	secondsVar(fs, &c.RRDPFallbackTime, "rrdp-fallback-time", "`seconds` since the last RRDP success before falling back to rsync")
	fs.IntVar(&c.RRDPMaxDeltaCount, "rrdp-max-delta-count", c.RRDPMaxDeltaCount, "more deltas than `count` and the snapshot is used")
	secondsVar(fs, &c.RRDPTimeout, "rrdp-timeout", "timeout in `seconds` of each RRDP network operation, 0 for none")
	secondsVar(fs, &c.RRDPConnectTimeout, "rrdp-connect-timeout", "timeout in `seconds` of RRDP connects")
	secondsVar(fs, &c.RRDPTotalTimeout, "rrdp-total-timeout", "`seconds` one repository's whole RRDP update may take, 0 for no limit")
	fs.StringVar(&c.RRDPLocalAddr, "rrdp-local-addr", c.RRDPLocalAddr, "local `addr`ess of RRDP connections")
	fs.StringArrayVar(&c.RRDPRootCerts, "rrdp-root-cert", c.RRDPRootCerts, "`path` of an extra trusted certificate (PEM) for HTTPS, repeatable")
	fs.StringArrayVar(&c.RRDPProxies, "rrdp-proxy", c.RRDPProxies, "HTTP or SOCKS proxy `uri` for RRDP, repeatable")
	fs.StringVar(&c.RRDPKeepResponses, "rrdp-keep-responses", c.RRDPKeepResponses, "store the bodies of RRDP responses under `path`")
	fs.BoolVar(&c.RRDPDisableGzip, "rrdp-disable-gzip", c.RRDPDisableGzip, "do not ask for gzip transfer encoding")
	fs.Int64Var(&c.MaxObjectSize, "max-object-size", c.MaxObjectSize, "largest object accepted in `bytes`, 0 for no limit")
	fs.IntVar(&c.MaxCADepth, "max-ca-depth", c.MaxCADepth, "validate CAs at most `count` levels below a trust anchor")
	fs.BoolVar(&c.Dirty, "dirty", c.Dirty, "do not delete unused data after a validation run")
	fs.IntVar(&c.ValidationThreads, "validation-threads", c.ValidationThreads, "`count` of validation threads")
	fs.BoolVar(&c.EnableASPA, "enable-aspa", c.EnableASPA, "include ASPA payload in the output")
	fs.BoolVar(&c.EnableBGPsec, "enable-bgpsec", c.EnableBGPsec, "include BGPsec router keys in the output")
	fs.Var(&c.ValidationTime, "validation-time", "validate as of this `time` (RFC 3339 or Unix seconds) instead of now")
	fs.BoolVar(&c.ColdCache, "cold-cache", c.ColdCache, "ignore the validation cache and rebuild it in this run")
	fs.CountVarP(&c.Verbose, "verbose", "v", "print more information, repeatable")
	fs.CountVarP(&c.Quiet, "quiet", "q", "print less information, repeatable")
	fs.BoolVar(&c.Syslog, "syslog", c.Syslog, "log to syslog")
	fs.StringVar(&c.SyslogFacility, "syslog-facility", c.SyslogFacility, "syslog `facility`")
	fs.StringVar(&c.LogFile, "logfile", c.LogFile, "log to this `path`, - for standard error")
}

// ServerFlags registers the options of the server command on fs,
// writing into c; call it after Resolve, so that they override the
// config file, and then ResolveServer.
func (c *Config) ServerFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&c.Detach, "detach", "d", c.Detach, "detach from the terminal after starting")
	fs.StringArrayVar(&c.RTRListen, "rtr", c.RTRListen, "listen for RTR on `addr:port`, repeatable")
	fs.StringArrayVar(&c.RTRTLSListen, "rtr-tls", c.RTRTLSListen, "listen for RTR over TLS on `addr:port`, repeatable")
	fs.StringArrayVar(&c.HTTPListen, "http", c.HTTPListen, "listen for HTTP on `addr:port`, repeatable")
	fs.StringArrayVar(&c.HTTPTLSListen, "http-tls", c.HTTPTLSListen, "listen for HTTPS on `addr:port`, repeatable")
	fs.BoolVar(&c.ListenSystemd, "listen-systemd", c.ListenSystemd, "take the RTR listening sockets from systemd")
	secondsVar(fs, &c.RTRTCPKeepalive, "rtr-tcp-keepalive", "idle `seconds` before TCP keepalives on RTR connections, 0 for none")
	fs.BoolVar(&c.RTRClientMetrics, "rtr-client-metrics", c.RTRClientMetrics, "include metrics per RTR client")
	fs.StringVar(&c.RTRTLSKey, "rtr-tls-key", c.RTRTLSKey, "private key (PEM) for RTR over TLS at `path`")
	fs.StringVar(&c.RTRTLSCert, "rtr-tls-cert", c.RTRTLSCert, "certificate chain (PEM) for RTR over TLS at `path`")
	fs.StringVar(&c.HTTPTLSKey, "http-tls-key", c.HTTPTLSKey, "private key (PEM) for HTTPS at `path`")
	fs.StringVar(&c.HTTPTLSCert, "http-tls-cert", c.HTTPTLSCert, "certificate chain (PEM) for HTTPS at `path`")
	secondsVar(fs, &c.Refresh, "refresh", "`seconds` between validation runs; the RTR refresh interval")
	secondsVar(fs, &c.Retry, "retry", "RTR retry interval in `seconds`")
	secondsVar(fs, &c.Expire, "expire", "RTR expire interval in `seconds`")
	fs.IntVar(&c.HistorySize, "history", c.HistorySize, "`count` of RTR change sets to keep")
	fs.IntVar(&c.MaxVRPDrop, "max-vrp-drop", c.MaxVRPDrop, "hold back a run that loses more than `percent` of the VRPs, 0 for never")
	fs.IntVar(&c.MaxVRPDropRuns, "max-vrp-drop-runs", c.MaxVRPDropRuns, "publish a held-back drop once `count` runs in a row show it")
	fs.StringVar(&c.Source, "source", c.Source, "serve the JSON VRP list at `url` instead of validating, or follow a /json-delta url by deltas (relay mode)")
	fs.StringVar(&c.PIDFile, "pid-file", c.PIDFile, "keep the daemon's PID in the file at `path`")
	fs.StringVar(&c.WorkingDir, "working-dir", c.WorkingDir, "working `dir`ectory of the daemon")
	fs.StringVar(&c.Chroot, "chroot", c.Chroot, "root `dir`ectory of the daemon")
	fs.StringVar(&c.User, "user", c.User, "run the daemon as user `name`")
	fs.StringVar(&c.Group, "group", c.Group, "run the daemon as group `name`")
}

func secondsVar(fs *pflag.FlagSet, p *Seconds, name, usage string) {
	fs.Int64Var((*int64)(p), name, int64(*p), usage)
}

// Resolve completes c after the global options were parsed onto it:
// it reads the config file (-c, else $HOME/.rovd.conf if that exists)
// for everything the command line did not set, derives what depends on
// other settings, makes paths absolute and checks every value. changed
// reports whether an option was given. An error names the option or
// the config file and key it is about.
func (c *Config) Resolve(changed func(name string) bool) error {
	c.changed = changed
	path, explicit := c.ConfigFile, c.ConfigFile != ""
	if !explicit {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, ".rovd.conf")
		}
	}
	if path != "" {
		data, err := readFile(path)
		switch {
		case err == nil:
			if err := c.load(data, path); err != nil {
				return err
			}
		case explicit || !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("config file: %w", err)
		}
	}
	if changed("base-dir") {
		if !changed("repository-dir") {
			c.RepositoryDir = filepath.Join(c.BaseDir, "repository")
		}
		if !changed("tal-dir") {
			c.TALDir = filepath.Join(c.BaseDir, "tals")
		}
	}
	// -v and -q override log-level; --syslog and --logfile override log.
	switch {
	case c.Verbose > 0 && c.Quiet > 0:
		return errors.New("--verbose and --quiet exclude each other")
	case c.Verbose == 1:
		c.LogLevel = "info"
	case c.Verbose > 1:
		c.LogLevel = "debug"
	case c.Quiet == 1:
		c.LogLevel = "error"
	case c.Quiet > 1:
		c.LogLevel = "off"
	}
	switch {
	case c.Syslog && changed("logfile"):
		return errors.New("--syslog and --logfile exclude each other")
	case c.Syslog:
		c.Log = "syslog"
	case changed("logfile") && c.LogFile == "-":
		c.Log, c.LogFile = "stderr", ""
	case changed("logfile"):
		c.Log = "file"
	}
	return c.finish()
}

// ResolveServer completes and checks c after the server command's
// options were parsed onto it (see ServerFlags).
func (c *Config) ResolveServer(changed func(name string) bool) error {
	global := c.changed
	c.changed = func(name string) bool { return changed(name) || global != nil && global(name) }
	return c.finish()
}

// finish makes every path absolute, so that the configuration means the
// same wherever it is printed and read back, and checks the values.
func (c *Config) finish() error {
	for _, s := range settings {
		if err := s.v.absolute(c); err != nil {
			return c.errorf(s.key, "%v", err)
		}
	}
	return c.check()
}

// check checks each value on its own (the validators of the settings
// table), then those that depend on each other; the first bad one is
// the error.
func (c *Config) check() error {
	for _, s := range settings {
		if s.valid == nil {
			continue
		}
		if err := s.valid(c); err != nil {
			return c.errorf(s.key, "%v", err)
		}
	}
	if c.Log == "file" && c.LogFile == "" {
		return c.errorf("log", "log target \"file\" needs %s", c.nameOf("log-file"))
	}
	for _, t := range []struct {
		listen, key, cert string
		addrs             []string
		keyPath, certPath string
	}{
		{"rtr-tls-listen", "rtr-tls-key", "rtr-tls-cert", c.RTRTLSListen, c.RTRTLSKey, c.RTRTLSCert},
		{"http-tls-listen", "http-tls-key", "http-tls-cert", c.HTTPTLSListen, c.HTTPTLSKey, c.HTTPTLSCert},
	} {
		if len(t.addrs) > 0 && (t.keyPath == "" || t.certPath == "") {
			return c.errorf(t.listen, "TLS needs both %s and %s", c.nameOf(t.key), c.nameOf(t.cert))
		}
	}
	return nil
}

// errorf makes an error about the setting of key: it names the option
// if the command line gave it, else the config file and key.
func (c *Config) errorf(key, format string, a ...any) error {
	return fmt.Errorf("%s: %s", c.origin(key), fmt.Sprintf(format, a...))
}

// origin names where the value of key came from.
func (c *Config) origin(key string) string {
	s := settingByKey(key)
	switch {
	case s != nil && s.flag != "" && c.changed != nil && c.changed(s.flag):
		return "--" + s.flag
	case c.fromFile[key]:
		return fmt.Sprintf("config file %s: %s", c.file, key)
	}
	return key
}

// nameOf names the setting of key for the user: its option as well if
// it has one.
func (c *Config) nameOf(key string) string {
	if s := settingByKey(key); s != nil && s.flag != "" {
		return fmt.Sprintf("%s (--%s)", key, s.flag)
	}
	return key
}

// Logging returns the logging settings.
func (c *Config) Logging() logging.Options {
	return logging.Options{Level: c.LogLevel, Target: c.Log, File: c.LogFile, Facility: c.SyslogFacility, Daemon: c.Detach}
}

// LoadExceptions reads and merges the local exceptions files; nil
// without any.
func (c *Config) LoadExceptions() (*payload.SLURM, error) {
	if len(c.Exceptions) == 0 {
		return nil, nil
	}
	files := make([]*payload.SLURM, 0, len(c.Exceptions))
	for _, path := range c.Exceptions {
		fi, err := os.Stat(path)
		if err == nil && fi.Size() > payload.MaxSLURMSize {
			err = fmt.Errorf("%s: larger than %d bytes", path, payload.MaxSLURMSize)
		}
		var data []byte
		if err == nil {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			return nil, fmt.Errorf("--exceptions: %w", err)
		}
		s, err := payload.ParseSLURM(data)
		if err != nil {
			return nil, fmt.Errorf("--exceptions: %s: %w", path, err)
		}
		s.Path = path
		files = append(files, s)
	}
	merged, err := payload.MergeSLURM(files...)
	if err != nil {
		return nil, fmt.Errorf("--exceptions: %w", err)
	}
	return merged, nil
}

// EngineOptions returns the engine's settings.
func (c *Config) EngineOptions() engine.Options {
	o := engine.DefaultOptions()
	o.TALDir = c.TALDir
	if len(c.TALLabels) > 0 {
		// The engine names a TAL by its file name without .tal.
		o.TALLabels = make(map[string]string, len(c.TALLabels))
		for file, label := range c.TALLabels {
			o.TALLabels[strings.TrimSuffix(file, ".tal")] = label
		}
	}
	o.Strict = c.Strict
	o.Stale, _ = engine.ParsePolicy(c.Stale) // checked by Resolve
	o.UnsafeVRPs, _ = engine.ParsePolicy(c.UnsafeVRPs)
	o.UnknownObjects, _ = engine.ParsePolicy(c.UnknownObjects)
	o.Threads = c.ValidationThreads
	o.Time = c.ValidationTime.Time
	o.MaxCADepth = c.MaxCADepth
	o.ColdCache = c.ColdCache
	return o
}

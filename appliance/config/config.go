// Package config holds rovd's settings: the global options and config
// file keys of the Routinator manual, with its defaults, and ours. The
// field tags are the config file keys.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/engine"
	"github.com/rovd/rovd/engine/payload"
)

// Config is the effective configuration of a rovd process.
type Config struct {
	BaseDir       string   `toml:"base-dir,omitempty"`
	RepositoryDir string   `toml:"repository-dir"`
	TALDir        string   `toml:"tal-dir"`
	Exceptions    []string `toml:"exceptions"`
	// TALLabels maps a TAL file name (without .tal) to its name in the
	// output; a config file key only, as in Routinator.
	TALLabels map[string]string `toml:"tal-label,omitempty"`

	Strict            bool   `toml:"strict"`
	Stale             string `toml:"stale"`
	UnsafeVRPs        string `toml:"unsafe-vrps"`
	UnknownObjects    string `toml:"unknown-objects"`
	AllowDubiousHosts bool   `toml:"allow-dubious-hosts"`
	Fresh             bool   `toml:"-"`

	DisableRsync bool     `toml:"disable-rsync"`
	RsyncCommand string   `toml:"rsync-command"`
	RsyncArgs    []string `toml:"rsync-args,omitempty"`
	RsyncTimeout Seconds  `toml:"rsync-timeout"`

	DisableRRDP        bool     `toml:"disable-rrdp"`
	RRDPFallbackTime   Seconds  `toml:"rrdp-fallback-time"`
	RRDPMaxDeltaCount  int      `toml:"rrdp-max-delta-count"`
	RRDPTimeout        Seconds  `toml:"rrdp-timeout"`
	RRDPConnectTimeout Seconds  `toml:"rrdp-connect-timeout,omitempty"`
	RRDPTotalTimeout   Seconds  `toml:"rrdp-total-timeout"`
	RRDPLocalAddr      string   `toml:"rrdp-local-addr,omitempty"`
	RRDPRootCerts      []string `toml:"rrdp-root-certs"`
	RRDPProxies        []string `toml:"rrdp-proxies"`
	RRDPKeepResponses  string   `toml:"rrdp-keep-responses,omitempty"`
	RRDPDisableGzip    bool     `toml:"rrdp-disable-gzip"`

	MaxObjectSize     int64 `toml:"max-object-size"`
	MaxCADepth        int   `toml:"max-ca-depth"`
	Dirty             bool  `toml:"dirty"`
	ValidationThreads int   `toml:"validation-threads"`
	EnableASPA        bool  `toml:"enable-aspa"`
	EnableBGPsec      bool  `toml:"enable-bgpsec"`
	// Refresh is the time between validation runs of the server, and
	// the least RRDP fallback time.
	Refresh Seconds `toml:"refresh"`

	// ValidationTime (ours) validates as of an instant instead of now.
	ValidationTime Time `toml:"-"`
	// ColdCache (ours) ignores the validation cache for one run.
	ColdCache bool `toml:"-"`

	Verbose  int    `toml:"-"`
	Quiet    int    `toml:"-"`
	LogLevel string `toml:"log-level"`
	Syslog   bool   `toml:"-"`
	// SyslogFacility and LogFile as the manual's keys.
	SyslogFacility string `toml:"syslog-facility"`
	LogFile        string `toml:"log-file,omitempty"`
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
		Stale:             "reject",
		UnsafeVRPs:        "warn",
		UnknownObjects:    "warn",
		RsyncCommand:      "rsync",
		RsyncTimeout:      300,
		RRDPFallbackTime:  3600,
		RRDPMaxDeltaCount: 100,
		RRDPTimeout:       300,
		RRDPTotalTimeout:  1200,
		MaxObjectSize:     20_000_000,
		MaxCADepth:        engine.DefaultMaxCADepth,
		ValidationThreads: runtime.NumCPU(),
		Refresh:           600,
		LogLevel:          "warn",
		SyslogFacility:    "daemon",
	}
}

// Flags registers the global options on fs, writing into c. Options
// given on the command line override what c held before parsing.
func (c *Config) Flags(fs *pflag.FlagSet) {
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
	fs.StringVar(&c.LogFile, "logfile", c.LogFile, "log to this `path`")
}

func secondsVar(fs *pflag.FlagSet, p *Seconds, name, usage string) {
	fs.Int64Var((*int64)(p), name, int64(*p), usage)
}

// Resolve fills in what depends on other settings: the repository and
// TAL directories follow an explicitly given base directory unless set
// themselves. changed reports whether a flag was given.
func (c *Config) Resolve(changed func(name string) bool) error {
	if changed("base-dir") {
		if !changed("repository-dir") {
			c.RepositoryDir = filepath.Join(c.BaseDir, "repository")
		}
		if !changed("tal-dir") {
			c.TALDir = filepath.Join(c.BaseDir, "tals")
		}
	}
	for name, v := range map[string]string{"stale": c.Stale, "unsafe-vrps": c.UnsafeVRPs, "unknown-objects": c.UnknownObjects} {
		if _, err := engine.ParsePolicy(v); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
	}
	switch {
	case c.ValidationThreads < 1:
		return fmt.Errorf("--validation-threads: %d is not a positive count", c.ValidationThreads)
	case c.MaxObjectSize < 0:
		return fmt.Errorf("--max-object-size: %d is negative", c.MaxObjectSize)
	case c.RRDPMaxDeltaCount < 1:
		return fmt.Errorf("--rrdp-max-delta-count: %d is not a positive count", c.RRDPMaxDeltaCount)
	case c.MaxCADepth < 1:
		return fmt.Errorf("--max-ca-depth: %d is not a positive count", c.MaxCADepth)
	}
	for name, v := range map[string]Seconds{"rsync-timeout": c.RsyncTimeout, "rrdp-timeout": c.RRDPTimeout,
		"rrdp-connect-timeout": c.RRDPConnectTimeout, "rrdp-fallback-time": c.RRDPFallbackTime, "rrdp-total-timeout": c.RRDPTotalTimeout} {
		if v < 0 {
			return fmt.Errorf("--%s: %d seconds is negative", name, v)
		}
	}
	return nil
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
	o.TALLabels = c.TALLabels
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

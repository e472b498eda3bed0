package config_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/logging"
	"github.com/rovd/rovd/engine"
)

// isolate gives the test a home directory of its own, so that no
// $HOME/.rovd.conf of the machine is read, and returns it.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

// resolve parses the global options args, resolves them and, unless
// server is nil, parses and resolves the server options server.
func resolve(t *testing.T, args, server []string) (*config.Config, error) {
	t.Helper()
	c := config.Defaults()
	fs := pflag.NewFlagSet("rovd", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := c.Resolve(fs.Changed); err != nil {
		return nil, err
	}
	if server == nil {
		return &c, nil
	}
	sfs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	sfs.SetOutput(io.Discard)
	c.ServerFlags(sfs)
	if err := sfs.Parse(server); err != nil {
		return nil, err
	}
	return &c, c.ResolveServer(sfs.Changed)
}

// mandatory are the keys every config file of these tests has.
const mandatory = "repository-dir = \"/var/lib/rovd/repository\"\ntal-dir = \"/var/lib/rovd/tals\"\n"

// writeConfig writes a config file in a directory of its own.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rovd.conf")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	home := isolate(t)
	c, err := resolve(t, nil, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.RepositoryDir != filepath.Join(home, ".rpki-cache", "repository") || c.TALDir != filepath.Join(home, ".rpki-cache", "tals") {
		t.Errorf("directories %s, %s", c.RepositoryDir, c.TALDir)
	}
	o := c.EngineOptions()
	if o.Stale != engine.Reject || o.UnsafeVRPs != engine.Warn || o.UnknownObjects != engine.Warn || o.Strict {
		t.Errorf("policies %+v", o)
	}
	if c.MaxObjectSize != 20_000_000 || c.RsyncTimeout.Duration() != 300*time.Second || c.RRDPMaxDeltaCount != 100 ||
		c.RRDPTimeout != 300 || c.RRDPFallbackTime != 3600 || c.RsyncCommand != "rsync" || c.RsyncArgs != nil || c.MaxCADepth != 32 {
		t.Errorf("limits %+v", c)
	}
	if got, want := c.Logging(), (logging.Options{Level: "warn", Target: "default", Facility: "daemon"}); got != want {
		t.Errorf("logging %+v, want %+v", got, want)
	}
	if c.Refresh != 600 || c.Retry != 600 || c.Expire != 7200 || c.HistorySize != 10 || c.RTRTCPKeepalive != 60 ||
		c.MaxVRPDrop != 0 || c.MaxVRPDropRuns != 3 || c.Source != "" ||
		len(c.RTRListen)+len(c.HTTPListen)+len(c.RTRTLSListen)+len(c.HTTPTLSListen) != 0 || c.ListenSystemd || c.Detach {
		t.Errorf("server %+v", c)
	}
	if c.ConfigFile != "" {
		t.Errorf("read config file %s", c.ConfigFile)
	}
}

// keyTests has a row for every config file key: a value in the file,
// what it sets, and the option that overrides it with what.
var keyTests = []struct {
	key   string
	value string // TOML value
	extra string // more lines the file needs
	file  any    // the value the key sets; $DIR is the file's directory
	flag  []string
	// server marks options of the server command.
	server bool
	// cli is the value the option sets; $CWD is the current directory.
	cli any
	get func(c *config.Config) any
}{
	{"repository-dir", `"repo"`, "", "$DIR/repo", []string{"-r", "r3"}, false, "$CWD/r3", func(c *config.Config) any { return c.RepositoryDir }},
	{"repository-dir", `"/srv/repo/"`, "", "/srv/repo", []string{"--repository-dir=/r"}, false, "/r", func(c *config.Config) any { return c.RepositoryDir }},
	{"tal-dir", `"/srv/tals"`, "", "/srv/tals", []string{"-t", "/t"}, false, "/t", func(c *config.Config) any { return c.TALDir }},
	{"tal-label", `[["ripe.tal", "RIPE NCC"], ["arin.tal", "ARIN RPKI Root"]]`, "", map[string]string{"ripe.tal": "RIPE NCC", "arin.tal": "ARIN RPKI Root"}, nil, false, nil, func(c *config.Config) any { return c.TALLabels }},
	{"exceptions", `["a.json", "/etc/b.json"]`, "", []string{"$DIR/a.json", "/etc/b.json"}, []string{"-x", "c.json", "--exceptions", "/d.json"}, false, []string{"$CWD/c.json", "/d.json"}, func(c *config.Config) any { return c.Exceptions }},
	{"strict", "true", "", true, []string{"--strict=false"}, false, false, func(c *config.Config) any { return c.Strict }},
	{"stale", `"warn"`, "", "warn", []string{"--stale", "accept"}, false, "accept", func(c *config.Config) any { return c.Stale }},
	{"unsafe-vrps", `"reject"`, "", "reject", []string{"--unsafe-vrps=accept"}, false, "accept", func(c *config.Config) any { return c.UnsafeVRPs }},
	{"unknown-objects", `"reject"`, "", "reject", []string{"--unknown-objects", "accept"}, false, "accept", func(c *config.Config) any { return c.UnknownObjects }},
	{"allow-dubious-hosts", "true", "", true, []string{"--allow-dubious-hosts=false"}, false, false, func(c *config.Config) any { return c.AllowDubiousHosts }},
	{"disable-rsync", "true", "", true, []string{"--disable-rsync=false"}, false, false, func(c *config.Config) any { return c.DisableRsync }},
	{"rsync-command", `"/usr/local/bin/rsync"`, "", "/usr/local/bin/rsync", []string{"--rsync-command", "openrsync"}, false, "openrsync", func(c *config.Config) any { return c.RsyncCommand }},
	{"rsync-args", `["--contimeout=5", "-4"]`, "", []string{"--contimeout=5", "-4"}, nil, false, nil, func(c *config.Config) any { return c.RsyncArgs }},
	{"rsync-args", `[]`, "", []string{}, nil, false, nil, func(c *config.Config) any { return c.RsyncArgs }},
	{"rsync-timeout", "60", "", config.Seconds(60), []string{"--rsync-timeout", "0"}, false, config.Seconds(0), func(c *config.Config) any { return c.RsyncTimeout }},
	{"disable-rrdp", "true", "", true, []string{"--disable-rrdp=false"}, false, false, func(c *config.Config) any { return c.DisableRRDP }},
	{"rrdp-max-delta-count", "5", "", 5, []string{"--rrdp-max-delta-count", "7"}, false, 7, func(c *config.Config) any { return c.RRDPMaxDeltaCount }},
	{"rrdp-timeout", "0", "", config.Seconds(0), []string{"--rrdp-timeout", "30"}, false, config.Seconds(30), func(c *config.Config) any { return c.RRDPTimeout }},
	{"rrdp-fallback-time", "7200", "", config.Seconds(7200), []string{"--rrdp-fallback-time=100"}, false, config.Seconds(100), func(c *config.Config) any { return c.RRDPFallbackTime }},
	{"rrdp-connect-timeout", "10", "", config.Seconds(10), []string{"--rrdp-connect-timeout", "20"}, false, config.Seconds(20), func(c *config.Config) any { return c.RRDPConnectTimeout }},
	{"rrdp-total-timeout", "0", "", config.Seconds(0), []string{"--rrdp-total-timeout", "600"}, false, config.Seconds(600), func(c *config.Config) any { return c.RRDPTotalTimeout }},
	{"rrdp-local-addr", `"192.0.2.1"`, "", "192.0.2.1", []string{"--rrdp-local-addr", "2001:db8::1"}, false, "2001:db8::1", func(c *config.Config) any { return c.RRDPLocalAddr }},
	{"rrdp-root-certs", `["ca.pem"]`, "", []string{"$DIR/ca.pem"}, []string{"--rrdp-root-cert", "x.pem", "--rrdp-root-cert", "/y.pem"}, false, []string{"$CWD/x.pem", "/y.pem"}, func(c *config.Config) any { return c.RRDPRootCerts }},
	{"rrdp-proxies", `["socks5://127.0.0.1:1080"]`, "", []string{"socks5://127.0.0.1:1080"}, []string{"--rrdp-proxy", "http://proxy:3128", "--rrdp-proxy", "socks5h://p:1"}, false, []string{"http://proxy:3128", "socks5h://p:1"}, func(c *config.Config) any { return c.RRDPProxies }},
	{"rrdp-keep-responses", `"keep"`, "", "$DIR/keep", []string{"--rrdp-keep-responses", "/k"}, false, "/k", func(c *config.Config) any { return c.RRDPKeepResponses }},
	{"rrdp-disable-gzip", "true", "", true, []string{"--rrdp-disable-gzip=false"}, false, false, func(c *config.Config) any { return c.RRDPDisableGzip }},
	{"max-object-size", "0", "", int64(0), []string{"--max-object-size", "1000"}, false, int64(1000), func(c *config.Config) any { return c.MaxObjectSize }},
	{"max-ca-depth", "8", "", 8, []string{"--max-ca-depth", "4"}, false, 4, func(c *config.Config) any { return c.MaxCADepth }},
	{"enable-aspa", "true", "", true, []string{"--enable-aspa=false"}, false, false, func(c *config.Config) any { return c.EnableASPA }},
	{"enable-bgpsec", "true", "", true, []string{"--enable-bgpsec=false"}, false, false, func(c *config.Config) any { return c.EnableBGPsec }},
	{"dirty", "true", "", true, []string{"--dirty=false"}, false, false, func(c *config.Config) any { return c.Dirty }},
	{"validation-threads", "3", "", 3, []string{"--validation-threads", "5"}, false, 5, func(c *config.Config) any { return c.ValidationThreads }},
	{"log-level", `"debug"`, "", "debug", []string{"-q"}, false, "error", func(c *config.Config) any { return c.LogLevel }},
	{"log-level", `"info"`, "", "info", []string{"-qq"}, false, "off", func(c *config.Config) any { return c.LogLevel }},
	{"log-level", `"error"`, "", "error", []string{"-v"}, false, "info", func(c *config.Config) any { return c.LogLevel }},
	{"log-level", `"off"`, "", "off", []string{"-vv"}, false, "debug", func(c *config.Config) any { return c.LogLevel }},
	{"log-level", `"info"`, "", "info", []string{"-v", "--verbose", "-v"}, false, "debug", func(c *config.Config) any { return c.LogLevel }},
	{"log", `"stderr"`, "", "stderr", []string{"--syslog"}, false, "syslog", func(c *config.Config) any { return c.Log }},
	{"log", `"syslog"`, "", "syslog", []string{"--logfile", "-"}, false, "stderr", func(c *config.Config) any { return c.Log }},
	{"log", `"file"`, `log-file = "/var/log/rovd.log"`, "file", []string{"--logfile", "-"}, false, "stderr", func(c *config.Config) any { return c.Log }},
	{"log", `"syslog"`, "", "syslog", []string{"--logfile", "x.log"}, false, "file", func(c *config.Config) any { return c.Log }},
	{"log-file", `"rovd.log"`, "", "$DIR/rovd.log", []string{"--logfile", "l.log"}, false, "$CWD/l.log", func(c *config.Config) any { return c.LogFile }},
	{"syslog-facility", `"local5"`, "", "local5", []string{"--syslog-facility", "auth"}, false, "auth", func(c *config.Config) any { return c.SyslogFacility }},
	{"rtr-listen", `["127.0.0.1:3323", "[::1]:3323"]`, "", []string{"127.0.0.1:3323", "[::1]:3323"}, []string{"--rtr", "192.0.2.1:323", "--rtr", "[::]:323"}, true, []string{"192.0.2.1:323", "[::]:323"}, func(c *config.Config) any { return c.RTRListen }},
	{"rtr-tls-listen", `["127.0.0.1:3324"]`, "rtr-tls-key = \"k\"\nrtr-tls-cert = \"c\"", []string{"127.0.0.1:3324"}, []string{"--rtr-tls", "[::]:324", "--rtr-tls-key", "k", "--rtr-tls-cert", "c"}, true, []string{"[::]:324"}, func(c *config.Config) any { return c.RTRTLSListen }},
	{"http-listen", `["127.0.0.1:8323"]`, "", []string{"127.0.0.1:8323"}, []string{"--http", "[2001:db8::13]:8323"}, true, []string{"[2001:db8::13]:8323"}, func(c *config.Config) any { return c.HTTPListen }},
	{"http-tls-listen", `["127.0.0.1:8443"]`, "http-tls-key = \"k\"\nhttp-tls-cert = \"c\"", []string{"127.0.0.1:8443"}, []string{"--http-tls", "0.0.0.0:443", "--http-tls-key", "k", "--http-tls-cert", "c"}, true, []string{"0.0.0.0:443"}, func(c *config.Config) any { return c.HTTPTLSListen }},
	{"listen-systemd", "true", "", true, []string{"--listen-systemd=false"}, true, false, func(c *config.Config) any { return c.ListenSystemd }},
	{"rtr-tcp-keepalive", "0", "", config.Seconds(0), []string{"--rtr-tcp-keepalive", "30"}, true, config.Seconds(30), func(c *config.Config) any { return c.RTRTCPKeepalive }},
	{"rtr-client-metrics", "true", "", true, []string{"--rtr-client-metrics=false"}, true, false, func(c *config.Config) any { return c.RTRClientMetrics }},
	{"rtr-tls-key", `"key.pem"`, "", "$DIR/key.pem", []string{"--rtr-tls-key", "k.pem"}, true, "$CWD/k.pem", func(c *config.Config) any { return c.RTRTLSKey }},
	{"rtr-tls-cert", `"/etc/rovd/cert.pem"`, "", "/etc/rovd/cert.pem", []string{"--rtr-tls-cert", "c.pem"}, true, "$CWD/c.pem", func(c *config.Config) any { return c.RTRTLSCert }},
	{"http-tls-key", `"tls/key.pem"`, "", "$DIR/tls/key.pem", []string{"--http-tls-key", "/k.pem"}, true, "/k.pem", func(c *config.Config) any { return c.HTTPTLSKey }},
	{"http-tls-cert", `"tls/cert.pem"`, "", "$DIR/tls/cert.pem", []string{"--http-tls-cert", "/c.pem"}, true, "/c.pem", func(c *config.Config) any { return c.HTTPTLSCert }},
	{"refresh", "300", "", config.Seconds(300), []string{"--refresh", "120"}, true, config.Seconds(120), func(c *config.Config) any { return c.Refresh }},
	{"retry", "60", "", config.Seconds(60), []string{"--retry", "30"}, true, config.Seconds(30), func(c *config.Config) any { return c.Retry }},
	{"expire", "3600", "", config.Seconds(3600), []string{"--expire", "86400"}, true, config.Seconds(86400), func(c *config.Config) any { return c.Expire }},
	{"history-size", "100", "", 100, []string{"--history", "0"}, true, 0, func(c *config.Config) any { return c.HistorySize }},
	{"max-vrp-drop", "10", "", 10, []string{"--max-vrp-drop", "25"}, true, 25, func(c *config.Config) any { return c.MaxVRPDrop }},
	{"max-vrp-drop-runs", "5", "", 5, []string{"--max-vrp-drop-runs", "1"}, true, 1, func(c *config.Config) any { return c.MaxVRPDropRuns }},
	{"source", `"https://rpki.example.net/json"`, "", "https://rpki.example.net/json", []string{"--source", "http://127.0.0.1:8323/json"}, true, "http://127.0.0.1:8323/json", func(c *config.Config) any { return c.Source }},
	{"pid-file", `"/run/rovd.pid"`, "", "/run/rovd.pid", []string{"--pid-file", "p.pid"}, true, "$CWD/p.pid", func(c *config.Config) any { return c.PIDFile }},
	{"working-dir", `"work"`, "", "$DIR/work", []string{"--working-dir", "/"}, true, "/", func(c *config.Config) any { return c.WorkingDir }},
	{"chroot", `"/srv/chroot"`, "", "/srv/chroot", []string{"--chroot", "/srv/c2"}, true, "/srv/c2", func(c *config.Config) any { return c.Chroot }},
	{"user", `"rovd"`, "", "rovd", []string{"--user", "nobody"}, true, "nobody", func(c *config.Config) any { return c.User }},
	{"group", `"rovd"`, "", "rovd", []string{"--group", "nogroup"}, true, "nogroup", func(c *config.Config) any { return c.Group }},
}

// keyFile is a config file setting key to value, with the lines extra
// and the mandatory keys.
func keyFile(key, value, extra string) string {
	var b strings.Builder
	for _, line := range strings.Split(mandatory, "\n") {
		if line != "" && !strings.HasPrefix(line, key+" ") {
			b.WriteString(line + "\n")
		}
	}
	return b.String() + key + " = " + value + "\n" + extra + "\n"
}

// expand replaces $DIR and $CWD in the strings of v.
func expand(v any, dir, cwd string) any {
	r := strings.NewReplacer("$DIR", dir, "$CWD", cwd)
	switch v := v.(type) {
	case string:
		return r.Replace(v)
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = r.Replace(s)
		}
		return out
	}
	return v
}

// TestKeys sets each key in a config file, then overrides it with its
// option: the file beats the default, the command line beats the file.
func TestKeys(t *testing.T) {
	isolate(t)
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range keyTests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			def := config.Defaults()
			if reflect.DeepEqual(tc.get(&def), tc.file) {
				t.Fatalf("the test value is the default")
			}
			path := writeConfig(t, keyFile(tc.key, tc.value, tc.extra))
			dir := filepath.Dir(path)
			var server []string
			if tc.server {
				server = []string{}
			}
			c, err := resolve(t, []string{"-c", path}, server)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(expand(tc.file, dir, cwd), tc.get(c)); diff != "" {
				t.Errorf("from the file (-want +got):\n%s", diff)
			}
			if tc.flag == nil {
				return
			}
			args := []string{"-c", path}
			if tc.server {
				server = tc.flag
			} else {
				args = append(args, tc.flag...)
			}
			if c, err = resolve(t, args, server); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(expand(tc.cli, dir, cwd), tc.get(c)); diff != "" {
				t.Errorf("with %v (-want +got):\n%s", tc.flag, diff)
			}
			// The option alone, without a config file.
			args = nil
			if !tc.server {
				args = tc.flag
			}
			if c, err = resolve(t, args, server); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(expand(tc.cli, dir, cwd), tc.get(c)); diff != "" {
				t.Errorf("%v without a config file (-want +got):\n%s", tc.flag, diff)
			}
		})
	}
}

// TestKeysComplete checks that the settings table has every key of the
// Config struct's toml tags, that keyTests has a row for each, and that
// the options named in the table exist.
func TestKeysComplete(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range keyTests {
		tested[tc.key] = true
	}
	table := map[string]string{}
	for _, s := range config.Settings() {
		table[s.Key] = s.Flag
		if !tested[s.Key] {
			t.Errorf("no test of key %s", s.Key)
		}
	}
	typ := reflect.TypeFor[config.Config]()
	tags := 0
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		tags++
		if _, ok := table[tag]; !ok {
			t.Errorf("field %s: key %s is not in the settings table", typ.Field(i).Name, tag)
		}
	}
	if tags != len(table) {
		t.Errorf("%d toml tags, %d keys in the settings table", tags, len(table))
	}
	c := config.Defaults()
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	c.Flags(fs)
	c.ServerFlags(fs)
	for key, flag := range table {
		if flag != "" && fs.Lookup(flag) == nil {
			t.Errorf("key %s: no option --%s", key, flag)
		}
	}
}

// TestOptions covers the options that have no config file key.
func TestOptions(t *testing.T) {
	home := isolate(t)
	cwd, _ := os.Getwd()
	tests := []struct {
		name   string
		args   []string
		server []string
		check  func(c *config.Config) bool
	}{
		{"-b", []string{"-b", "/srv/rpki"}, nil, func(c *config.Config) bool {
			return c.RepositoryDir == "/srv/rpki/repository" && c.TALDir == "/srv/rpki/tals"
		}},
		{"-b with -t", []string{"-b", "/srv/rpki", "-t", "/etc/tals"}, nil, func(c *config.Config) bool {
			return c.RepositoryDir == "/srv/rpki/repository" && c.TALDir == "/etc/tals"
		}},
		{"--base-dir relative", []string{"--base-dir", "cache"}, nil, func(c *config.Config) bool {
			return c.RepositoryDir == filepath.Join(cwd, "cache", "repository")
		}},
		{"--fresh", []string{"--fresh"}, nil, func(c *config.Config) bool { return c.Fresh }},
		{"--cold-cache", []string{"--cold-cache"}, nil, func(c *config.Config) bool { return c.ColdCache && c.EngineOptions().ColdCache }},
		{"--validation-time", []string{"--validation-time", "2019-04-06T12:00:00Z"}, nil, func(c *config.Config) bool {
			return c.EngineOptions().Time.Equal(time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC))
		}},
		{"-v is info", []string{"-v"}, nil, func(c *config.Config) bool { return c.Logging().Level == "info" }},
		{"-vv is debug", []string{"-vv"}, nil, func(c *config.Config) bool { return c.Logging().Level == "debug" }},
		{"-q is error", []string{"-q"}, nil, func(c *config.Config) bool { return c.Logging().Level == "error" }},
		{"-q -q is off", []string{"-q", "-q"}, nil, func(c *config.Config) bool { return c.Logging().Level == "off" }},
		{"--syslog", []string{"--syslog", "--syslog-facility", "local1"}, nil, func(c *config.Config) bool {
			return c.Logging() == logging.Options{Level: "warn", Target: "syslog", Facility: "local1"}
		}},
		{"--logfile", []string{"--logfile", "/var/log/rovd.log"}, nil, func(c *config.Config) bool {
			return c.Logging() == logging.Options{Level: "warn", Target: "file", File: "/var/log/rovd.log", Facility: "daemon"}
		}},
		{"-d", nil, []string{"-d"}, func(c *config.Config) bool { return c.Detach && c.Logging().Daemon }},
		{"--detach", nil, []string{"--detach"}, func(c *config.Config) bool { return c.Detach }},
		{"no config file in $HOME", nil, nil, func(c *config.Config) bool { return c.ConfigFile == "" }},
		{"tal-label reaches the engine without .tal", []string{"-c", writeConfig(t, mandatory+`tal-label = [["ripe.tal", "RIPE NCC"]]`)}, nil, func(c *config.Config) bool {
			return reflect.DeepEqual(c.EngineOptions().TALLabels, map[string]string{"ripe": "RIPE NCC"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := resolve(t, tc.args, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("%+v", c)
			}
		})
	}

	// $HOME/.rovd.conf is read when it exists and -c is not given.
	if err := os.WriteFile(filepath.Join(home, ".rovd.conf"), []byte(mandatory+`stale = "accept"`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := resolve(t, nil, nil)
	if err != nil || c.Stale != "accept" || c.ConfigFile != filepath.Join(home, ".rovd.conf") {
		t.Errorf("$HOME/.rovd.conf: %v, %+v", err, c)
	}
	other := writeConfig(t, mandatory)
	if c, err = resolve(t, []string{"-c", other}, nil); err != nil || c.Stale != "reject" || c.ConfigFile != other {
		t.Errorf("-c beside $HOME/.rovd.conf: %v, %+v", err, c)
	}
}

// TestRelativeConfigFile gives -c a relative path: the paths in the
// file are relative to the file's directory, not the current one.
func TestRelativeConfigFile(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("etc", 0o755); err != nil {
		t.Fatal(err)
	}
	body := "repository-dir = \"../var/repo\"\ntal-dir = \"tals\"\nexceptions = [\"x.json\"]\n"
	if err := os.WriteFile(filepath.Join("etc", "rovd.conf"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := resolve(t, []string{"-c", "etc/rovd.conf", "--rrdp-root-cert", "ca.pem"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The temporary directory may be reached through a symbolic link.
	real, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(real, "var", "repo"), filepath.Join(real, "etc", "tals"), filepath.Join(real, "etc", "x.json"), filepath.Join(real, "ca.pem")}
	got := []string{c.RepositoryDir, c.TALDir, c.Exceptions[0], c.RRDPRootCerts[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestValidationTime(t *testing.T) {
	isolate(t)
	for in, want := range map[string]time.Time{
		"2019-04-06T12:00:00Z":      time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
		"2019-04-06T14:00:00+02:00": time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
		"1554552000":                time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
	} {
		c, err := resolve(t, []string{"--validation-time", in}, nil)
		if err != nil || !c.ValidationTime.Equal(want) || !c.EngineOptions().Time.Equal(want) {
			t.Errorf("%s: %v, %v", in, c, err)
		}
	}
	for _, in := range []string{"yesterday", "2019-04-06", "12ab", ""} {
		if _, err := resolve(t, []string{"--validation-time", in}, nil); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestErrors checks that every bad value, type, key and combination is
// one error that names the option, or the config file and key.
func TestErrors(t *testing.T) {
	home := isolate(t)
	tests := []struct {
		name   string
		file   string // config file content; "" for none
		args   []string
		server []string
		want   string // in the error; FILE is the config file
	}{
		{"unknown key", mandatory + "frobnicate = 1", nil, nil, `config file FILE: unknown key "frobnicate"`},
		{"unknown keys", mandatory + "b = 1\na = 2", nil, nil, `config file FILE: unknown keys "a", "b"`},
		{"a table", mandatory + "[server]\nrtr-listen = []", nil, nil, `config file FILE: unknown key "server"`},
		{"Routinator's newer spelling", mandatory + `tal-labels = []`, nil, nil, `unknown key "tal-labels"`},
		{"syntax", mandatory + "strict = \n", nil, nil, "config file FILE, line 3, column 10: "},
		{"key twice", mandatory + "strict = true\nstrict = false\n", nil, nil, "config file FILE, line 4, column 1: key strict is already defined"},
		{"not UTF-8", mandatory + "user = \"\xff\"\n", nil, nil, "config file FILE, line 3"},
		{"bool as string", mandatory + `strict = "yes"`, nil, nil, "config file FILE: strict: want a boolean, not a string"},
		{"bool as date", mandatory + `dirty = 1979-05-27`, nil, nil, "config file FILE: dirty: want a boolean, not a date or time"},
		{"seconds as float", mandatory + `rsync-timeout = 1.5`, nil, nil, "config file FILE: rsync-timeout: want an integer number of seconds, not a float"},
		{"count as string", mandatory + `validation-threads = "4"`, nil, nil, "config file FILE: validation-threads: want an integer, not a string"},
		{"string as integer", mandatory + `stale = 1`, nil, nil, "config file FILE: stale: want a string, not an integer"},
		{"path as array", mandatory + `log-file = ["a"]`, nil, nil, "config file FILE: log-file: want a string, not an array"},
		{"array as string", mandatory + `exceptions = "a.json"`, nil, nil, "config file FILE: exceptions: want an array of strings, not a string"},
		{"array of integers", mandatory + `rrdp-proxies = [1]`, nil, nil, "config file FILE: rrdp-proxies: item 1: want a string, not an integer"},
		{"array as table", mandatory + `rtr-listen = {a = 1}`, nil, nil, "config file FILE: rtr-listen: want an array of strings, not a table"},
		{"tal-label as table", mandatory + `tal-label = {"a.tal" = "A"}`, nil, nil, "config file FILE: tal-label: want an array of [file name, label] pairs, not a table"},
		{"tal-label not a pair", mandatory + `tal-label = [["a.tal"]]`, nil, nil, "config file FILE: tal-label: item 1: want a [file name, label] pair"},
		{"tal-label without .tal", mandatory + `tal-label = [["ripe", "RIPE"]]`, nil, nil, `config file FILE: tal-label: item 1: "ripe" is not a TAL file name`},
		{"tal-label with a directory", mandatory + `tal-label = [["tals/ripe.tal", "RIPE"]]`, nil, nil, `"tals/ripe.tal" is not a TAL file name`},
		{"tal-label twice", mandatory + `tal-label = [["a.tal", "A"], ["a.tal", "B"]]`, nil, nil, "tal-label: item 2: a.tal labelled twice"},
		{"tal-label empty label", mandatory + `tal-label = [["a.tal", ""]]`, nil, nil, "tal-label: item 1: empty label"},
		{"policy", mandatory + `stale = "maybe"`, nil, nil, `config file FILE: stale: invalid policy "maybe"`},
		{"policy overridden", mandatory + `unsafe-vrps = "drop"`, []string{"--unsafe-vrps", "warn"}, nil, `config file FILE: unsafe-vrps: invalid policy "drop"`},
		{"unknown-objects", mandatory + `unknown-objects = ""`, nil, nil, "config file FILE: unknown-objects: invalid policy"},
		{"empty rsync command", mandatory + `rsync-command = ""`, nil, nil, "config file FILE: rsync-command: empty value"},
		{"threads", mandatory + `validation-threads = 0`, nil, nil, "config file FILE: validation-threads: 0 is out of range (1 to 65535)"},
		{"deltas", mandatory + `rrdp-max-delta-count = 0`, nil, nil, "config file FILE: rrdp-max-delta-count: 0 is out of range"},
		{"object size", mandatory + `max-object-size = -1`, nil, nil, "config file FILE: max-object-size: -1 is negative"},
		{"ca depth", mandatory + `max-ca-depth = 0`, nil, nil, "config file FILE: max-ca-depth: 0 is out of range"},
		{"negative timeout", mandatory + `rsync-timeout = -5`, nil, nil, "config file FILE: rsync-timeout: -5 seconds is out of range"},
		{"huge timeout", mandatory + `rrdp-timeout = 9223372036854775807`, nil, nil, "config file FILE: rrdp-timeout: 9223372036854775807 seconds is out of range"},
		{"refresh 0", mandatory + `refresh = 0`, nil, nil, "config file FILE: refresh: 0 seconds is out of range (1 to 86400)"},
		{"retry too long", mandatory + `retry = 7201`, nil, nil, "config file FILE: retry: 7201 seconds is out of range (1 to 7200)"},
		{"expire too short", mandatory + `expire = 599`, nil, nil, "config file FILE: expire: 599 seconds is out of range (600 to 172800)"},
		{"history", mandatory + `history-size = 70000`, nil, nil, "config file FILE: history-size: 70000 is out of range (0 to 65535)"},
		{"keepalive", mandatory + `rtr-tcp-keepalive = -1`, nil, nil, "config file FILE: rtr-tcp-keepalive: -1 seconds is out of range"},
		{"local address", mandatory + `rrdp-local-addr = "example.net"`, nil, nil, `config file FILE: rrdp-local-addr: "example.net" is not an IP address`},
		{"proxy scheme", mandatory + `rrdp-proxies = ["ftp://proxy"]`, nil, nil, `config file FILE: rrdp-proxies: "ftp://proxy": scheme must be`},
		{"proxy without host", mandatory + `rrdp-proxies = ["proxy"]`, nil, nil, `config file FILE: rrdp-proxies: "proxy" is not a proxy URI`},
		{"log level", mandatory + `log-level = "trace"`, nil, nil, `config file FILE: log-level: unknown log level "trace"`},
		{"log level overridden by -v", mandatory + `log-level = "loud"`, []string{"-v"}, nil, `config file FILE: log-level: unknown log level "loud"`},
		{"log target", mandatory + `log = "journal"`, nil, nil, `config file FILE: log: unknown log target "journal"`},
		{"log file without log-file", mandatory + `log = "file"`, nil, nil, `config file FILE: log: log target "file" needs log-file (--logfile)`},
		{"facility", mandatory + `syslog-facility = "local9"`, nil, nil, `config file FILE: syslog-facility: unknown syslog facility "local9"`},
		{"listen host name", mandatory + `rtr-listen = ["localhost:323"]`, nil, nil, `config file FILE: rtr-listen: "localhost:323" is not an addr:port`},
		{"listen without port", mandatory + `http-listen = ["127.0.0.1"]`, nil, nil, `config file FILE: http-listen: "127.0.0.1" is not an addr:port`},
		{"listen IPv6 without brackets", mandatory + `http-tls-listen = ["::1:443"]`, nil, nil, `config file FILE: http-tls-listen: "::1:443" is not an addr:port`},
		{"TLS without key", mandatory + "rtr-tls-listen = [\"127.0.0.1:324\"]\nrtr-tls-cert = \"c\"", nil, nil, "config file FILE: rtr-tls-listen: TLS needs both rtr-tls-key (--rtr-tls-key) and rtr-tls-cert (--rtr-tls-cert)"},
		{"HTTPS without cert", mandatory + "http-tls-listen = [\"127.0.0.1:443\"]\nhttp-tls-key = \"k\"", nil, nil, "config file FILE: http-tls-listen: TLS needs both"},
		{"empty tal-dir", mandatory[:strings.Index(mandatory, "tal-dir")] + `tal-dir = ""`, nil, nil, "config file FILE: tal-dir: empty value"},
		{"empty repository-dir option", "", []string{"-r", ""}, nil, "--repository-dir: empty value"},
		{"no repository-dir", `tal-dir = "/t"`, nil, nil, "config file FILE: repository-dir is mandatory"},
		{"no tal-dir", `repository-dir = "/r"`, nil, nil, "config file FILE: tal-dir is mandatory"},
		{"missing file", "", []string{"-c", "/nonexistent/rovd.conf"}, nil, "config file: open /nonexistent/rovd.conf: no such file or directory"},
		{"directory", "", []string{"-c", home}, nil, "config file: read " + home + ": is a directory"},
		{"too large", mandatory + "#" + strings.Repeat("x", 1<<20), nil, nil, "config file: FILE: larger than 1048576 bytes"},

		{"option policy", "", []string{"--stale", "maybe"}, nil, `--stale: invalid policy "maybe"`},
		{"option count", "", []string{"--validation-threads", "0"}, nil, "--validation-threads: 0 is out of range"},
		{"option deltas", "", []string{"--rrdp-max-delta-count", "0"}, nil, "--rrdp-max-delta-count: 0 is out of range"},
		{"option size", "", []string{"--max-object-size", "-1"}, nil, "--max-object-size: -1 is negative"},
		{"option seconds", "", []string{"--rsync-timeout", "-5"}, nil, "--rsync-timeout: -5 seconds"},
		{"option depth", "", []string{"--max-ca-depth", "0"}, nil, "--max-ca-depth: 0 is out of range"},
		{"option overrides a file's good value", mandatory + `stale = "warn"`, []string{"--stale", "never"}, nil, `--stale: invalid policy "never"`},
		{"option facility", "", []string{"--syslog", "--syslog-facility", "nope"}, nil, `--syslog-facility: unknown syslog facility "nope"`},
		{"option local address", "", []string{"--rrdp-local-addr", "x"}, nil, `--rrdp-local-addr: "x" is not an IP address`},
		{"option proxy", "", []string{"--rrdp-proxy", "gopher://x"}, nil, `--rrdp-proxy: "gopher://x": scheme must be`},
		{"option rsync command", "", []string{"--rsync-command", ""}, nil, "--rsync-command: empty value"},
		{"-v with -q", "", []string{"-v", "-q"}, nil, "--verbose and --quiet exclude each other"},
		{"--syslog with --logfile", "", []string{"--syslog", "--logfile", "x"}, nil, "--syslog and --logfile exclude each other"},
		{"option not an integer", "", []string{"--rsync-timeout", "5m"}, nil, `invalid argument "5m" for "--rsync-timeout"`},
		{"server listen", "", nil, []string{"--rtr", "nonsense"}, `--rtr: "nonsense" is not an addr:port`},
		{"server listen over a file's", mandatory + `http-listen = ["127.0.0.1:80"]`, nil, []string{"--http", "127.0.0.1:x"}, `--http: "127.0.0.1:x" is not an addr:port`},
		{"server TLS", "", nil, []string{"--rtr-tls", "127.0.0.1:1", "--rtr-tls-key", "k"}, "--rtr-tls: TLS needs both rtr-tls-key (--rtr-tls-key) and rtr-tls-cert (--rtr-tls-cert)"},
		{"server TLS of the file without key", mandatory + `http-tls-listen = ["127.0.0.1:443"]` + "\nhttp-tls-key = \"k\"\nhttp-tls-cert = \"c\"", nil, []string{"--http-tls-key", ""}, "config file FILE: http-tls-listen: TLS needs both"},
		{"server refresh", "", nil, []string{"--refresh", "0"}, "--refresh: 0 seconds is out of range"},
		{"server retry", "", nil, []string{"--retry", "0"}, "--retry: 0 seconds is out of range"},
		{"server expire", "", nil, []string{"--expire", "100"}, "--expire: 100 seconds is out of range"},
		{"server history", "", nil, []string{"--history", "-1"}, "--history: -1 is out of range"},
		{"server keepalive", "", nil, []string{"--rtr-tcp-keepalive", "-1"}, "--rtr-tcp-keepalive: -1 seconds"},
		{"max-vrp-drop over 100", mandatory + `max-vrp-drop = 101`, nil, nil, "config file FILE: max-vrp-drop: 101 is out of range (0 to 100)"},
		{"max-vrp-drop negative", "", nil, []string{"--max-vrp-drop", "-1"}, "--max-vrp-drop: -1 is out of range (0 to 100)"},
		{"max-vrp-drop-runs zero", "", nil, []string{"--max-vrp-drop-runs", "0"}, "--max-vrp-drop-runs: 0 is out of range (1 to 65535)"},
		{"source not a URL", mandatory + `source = "rpki.example.net"`, nil, nil, `config file FILE: source: "rpki.example.net" is not an HTTP or HTTPS URL`},
		{"source scheme", "", nil, []string{"--source", "rsync://rpki.example.net/x"}, `--source: "rsync://rpki.example.net/x" is not an HTTP or HTTPS URL`},
		{"source type", mandatory + `source = ["a"]`, nil, nil, "config file FILE: source: want a string, not an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, want := tc.args, tc.want
			if tc.file != "" {
				path := writeConfig(t, tc.file)
				args = append([]string{"-c", path}, args...)
				want = strings.ReplaceAll(want, "FILE", path)
			}
			_, err := resolve(t, args, tc.server)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v\nwant %s", err, want)
			}
		})
	}
}

// allKeys is a config file that sets every key to something else than
// its default.
func allKeys() string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, tc := range keyTests {
		if seen[tc.key] || tc.extra != "" || tc.key == "log-file" || tc.key == "user" {
			continue
		}
		seen[tc.key] = true
		b.WriteString(tc.key + " = " + tc.value + "\n")
	}
	for _, k := range []string{"rtr-tls-listen", "http-tls-listen"} {
		b.WriteString(k + ` = ["127.0.0.1:1"]` + "\n")
	}
	b.WriteString("log-file = \"rovd \\\"1\\\".log\"\nuser = \"r\\u00f6vd\\ttab\"\n")
	return b.String()
}

// TestRoundTrip prints configurations and reads them back: the second
// print is the same as the first.
func TestRoundTrip(t *testing.T) {
	isolate(t)
	tests := []struct {
		name   string
		file   string
		args   []string
		server []string
	}{
		{"defaults", "", nil, []string{}},
		{"every key", allKeys(), nil, []string{}},
		{"every key and options", allKeys(), []string{"-b", "base", "-x", "e.json", "-vv", "--syslog", "--rrdp-proxy", "http://p:1"},
			[]string{"--rtr", "[::1]:323", "--refresh", "86400", "--chroot", "c"}},
		{"no rsync arguments", mandatory + "rsync-args = []\n", nil, nil},
		{"log to a file", mandatory + "log = \"file\"\nlog-file = \"rel/rovd.log\"\n", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append([]string{"-c", writeConfig(t, tc.file)}, args...)
			}
			c, err := resolve(t, args, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			var first bytes.Buffer
			if err := c.WriteTOML(&first); err != nil {
				t.Fatal(err)
			}
			// Read back from another directory: every path is absolute.
			path := writeConfig(t, first.String())
			back, err := resolve(t, []string{"-c", path}, []string{})
			if err != nil {
				t.Fatalf("%v reading back:\n%s", err, first.String())
			}
			var second bytes.Buffer
			if err := back.WriteTOML(&second); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first.String(), second.String()); diff != "" {
				t.Errorf("printed again (-first +second):\n%s", diff)
			}
		})
	}
	// Printing needs valid UTF-8.
	c := config.Defaults()
	c.LogFile = "/var/log/\xff"
	if err := c.WriteTOML(io.Discard); err == nil || !strings.Contains(err.Error(), "log-file: ") {
		t.Errorf("invalid UTF-8 printed: %v", err)
	}
}

// FuzzConfig reads arbitrary config files. A file that reads without
// error prints as a file that reads back and prints the same; an error
// names the file.
func FuzzConfig(f *testing.F) {
	for _, tc := range keyTests {
		f.Add([]byte(keyFile(tc.key, tc.value, tc.extra)))
	}
	f.Add([]byte(allKeys()))
	f.Add([]byte(mandatory + "[table]\nx = 1\n"))
	f.Add([]byte(mandatory + "user = \"a\\u0000b\\u007f\"\n"))
	f.Add([]byte("repository-dir = 'r'\ntal-dir = '''t\nu'''\n"))
	const path = "/etc/rovd.conf"
	f.Fuzz(func(t *testing.T, data []byte) {
		c := config.Defaults()
		if err := c.Load(data, path); err != nil {
			if !strings.HasPrefix(err.Error(), "config file "+path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var first bytes.Buffer
		if err := c.WriteTOML(&first); err != nil {
			return // only for strings that are not UTF-8
		}
		back := config.Defaults()
		if err := back.Load(first.Bytes(), "/elsewhere/rovd.conf"); err != nil {
			t.Fatalf("reading back: %v\n%s", err, first.String())
		}
		var second bytes.Buffer
		if err := back.WriteTOML(&second); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Fatalf("printed differently:\n%s\n%s", first.String(), second.String())
		}
	})
}

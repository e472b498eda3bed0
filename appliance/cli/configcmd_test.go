package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/cli"
)

// TestConfigRoundTrip prints the configuration, reads the output back
// with -c and prints it again: the two are the same.
func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "rovd.conf")
	body := "repository-dir = \"repo\"\ntal-dir = \"tals\"\nexceptions = [\"local.json\"]\n" +
		"tal-label = [[\"ripe.tal\", \"RIPE NCC\"]]\nrsync-args = [\"-4\"]\nlog = \"file\"\nlog-file = \"rovd.log\"\n" +
		"rtr-listen = [\"127.0.0.1:3323\"]\nhistory-size = 20\nuser = \"rovd\"\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"defaults", []string{"config"}},
		{"config file", []string{"-c", conf, "config"}},
		{"config file and options", []string{"-c", conf, "--stale", "warn", "-vv", "-x", "/etc/x.json", "config",
			"--http", "[::1]:8323", "--refresh", "60", "-d", "--pid-file", "rovd.pid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, first, stderr := rovd(t, tc.args...)
			if status != cli.ExitOK {
				t.Fatalf("status %d: %s", status, stderr)
			}
			back := filepath.Join(t.TempDir(), "printed.conf")
			if err := os.WriteFile(back, []byte(first), 0o644); err != nil {
				t.Fatal(err)
			}
			status, second, stderr := rovd(t, "-c", back, "config")
			if status != cli.ExitOK {
				t.Fatalf("reading back: status %d: %s\n%s", status, stderr, first)
			}
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("printed again (-first +second):\n%s", diff)
			}
		})
	}
	_, out, _ := rovd(t, "-c", conf, "--stale", "warn", "config", "--http", "[::1]:8323")
	for _, want := range []string{
		`repository-dir = "` + filepath.Join(dir, "repo") + `"`,
		`exceptions = ["` + filepath.Join(dir, "local.json") + `"]`,
		`stale = "warn"`, `http-listen = ["[::1]:8323"]`, `rtr-listen = ["127.0.0.1:3323"]`,
		`log-file = "` + filepath.Join(dir, "rovd.log") + `"`, `tal-label = [["ripe.tal", "RIPE NCC"]]`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("rovd config lacks %s:\n%s", want, out)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "rovd.conf")
	if err := os.WriteFile(conf, []byte("repository-dir = \"r\"\ntal-dir = \"t\"\nstrict = \"yes\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string
		stderr string
	}{
		{"help", []string{"config", "-h"}, cli.ExitOK, "--rtr=ADDR:PORT", ""},
		{"listed in help", []string{"-h"}, cli.ExitOK, "config ", ""},
		{"bad key type", []string{"-c", conf, "config"}, cli.ExitError, "", "rovd: config file " + conf + ": strict: want a boolean, not a string"},
		{"bad key for any command", []string{"-c", conf, "inspect", "x"}, cli.ExitError, "", "strict: want a boolean"},
		{"missing config file", []string{"-c", filepath.Join(dir, "none.conf"), "config"}, cli.ExitError, "", "rovd: config file: open "},
		{"bad server option", []string{"config", "--rtr", "localhost:323"}, cli.ExitError, "", `rovd config: --rtr: "localhost:323" is not an addr:port`},
		{"TLS without key", []string{"config", "--http-tls", "127.0.0.1:443"}, cli.ExitError, "", "rovd config: --http-tls: TLS needs both"},
		{"unknown server option", []string{"config", "--frobnicate"}, cli.ExitError, "", "unknown flag: --frobnicate"},
		{"argument", []string{"config", "x"}, cli.ExitError, "", `unexpected argument "x"`},
		{"-v with -q", []string{"-v", "-q", "config"}, cli.ExitError, "", "rovd: --verbose and --quiet exclude each other"},
		{"--syslog with --logfile", []string{"--syslog", "--logfile", "x", "config"}, cli.ExitError, "", "exclude each other"},
		{"bad global value", []string{"--validation-threads", "0", "config"}, cli.ExitError, "", "rovd: --validation-threads: 0 is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := rovd(t, tc.args...)
			if status != tc.status {
				t.Errorf("status %d, want %d\nstdout: %s\nstderr: %s", status, tc.status, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

// TestLogging runs an offline update of an empty import, which logs the
// import at level info and then fails for want of TALs, and checks
// where the log went.
func TestLogging(t *testing.T) {
	tests := []struct {
		name       string
		args       []string // before the command
		conf       string   // config file, if any, with $DIR its directory
		inFile     bool     // the import is logged to DIR/rovd.log
		onStderr   bool     // the import is logged to standard error
		fileExists bool
	}{
		{"default level warn", nil, "", false, false, false},
		{"-v", []string{"-v"}, "", false, true, false},
		{"-v with --logfile", []string{"-v", "--logfile", "$DIR/rovd.log"}, "", true, false, true},
		{"-q with --logfile", []string{"-q", "--logfile", "$DIR/rovd.log"}, "", false, false, true},
		{"--logfile -", []string{"-vv", "--logfile", "-"}, "", false, true, false},
		{"config file", nil, "log-level = \"info\"\nlog = \"file\"\nlog-file = \"rovd.log\"\n", true, false, true},
		{"-q over the config file", []string{"-q"}, "log-level = \"info\"\nlog = \"file\"\nlog-file = \"rovd.log\"\n", false, false, true},
		{"config file to standard error", nil, "log-level = \"debug\"\nlog = \"stderr\"\n", false, true, false},
		{"--logfile - over the config file", []string{"--logfile", "-"}, "log-level = \"info\"\nlog = \"file\"\nlog-file = \"rovd.log\"\n", false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"tals", "import"} {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"-r", filepath.Join(dir, "repo"), "-t", filepath.Join(dir, "tals")}
			if tc.conf != "" {
				conf := filepath.Join(dir, "rovd.conf")
				if err := os.WriteFile(conf, []byte("repository-dir = \"repo\"\ntal-dir = \"tals\"\n"+tc.conf), 0o644); err != nil {
					t.Fatal(err)
				}
				args = []string{"-c", conf}
			}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "$DIR", dir))
			}
			args = append(args, "update", "--import", filepath.Join(dir, "import"))
			status, _, stderr := rovd(t, args...)
			if status != cli.ExitError || !strings.Contains(stderr, "no TALs") {
				t.Fatalf("status %d: %s", status, stderr)
			}
			if got := strings.Contains(stderr, "msg=imported"); got != tc.onStderr {
				t.Errorf("logged on standard error: %v, want %v\n%s", got, tc.onStderr, stderr)
			}
			data, err := os.ReadFile(filepath.Join(dir, "rovd.log"))
			if (err == nil) != tc.fileExists {
				t.Fatalf("log file: %v", err)
			}
			if got := strings.Contains(string(data), "msg=imported"); got != tc.inFile {
				t.Errorf("logged in the file: %v, want %v\n%s", got, tc.inFile, data)
			}
		})
	}
}

// TestExitStatus pins the statuses of the manual's "Exit Status".
func TestExitStatus(t *testing.T) {
	if cli.ExitOK != 0 || cli.ExitError != 1 || cli.ExitIncomplete != 2 {
		t.Errorf("exit statuses %d, %d, %d; the manual says 0, 1, 2", cli.ExitOK, cli.ExitError, cli.ExitIncomplete)
	}
}

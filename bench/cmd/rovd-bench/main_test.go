package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no command", nil, 2, ""},
		{"unknown command", []string{"frobnicate"}, 2, ""},
		{"help", []string{"--help"}, 0, "world"},
		{"world help", []string{"world", "--help"}, 0, "--preset"},
		{"world without output", []string{"world"}, 2, ""},
		{"bad preset", []string{"world", "--preset", "huge", "-o", "x"}, 1, ""},
		{"bad time", []string{"world", "--time", "yesterday", "-o", "x"}, 1, ""},
		{"help lists serve", []string{"--help"}, 0, "serve"},
		{"serve help", []string{"serve", "--help"}, 0, "--mutate-every"},
		{"serve without dir", []string{"serve"}, 2, ""},
		{"serve two dirs", []string{"serve", "a", "b"}, 2, ""},
		{"serve bad flag", []string{"serve", "--frobnicate", "a"}, 2, ""},
		{"serve no world", []string{"serve", "/nonexistent/world"}, 1, ""},
		{"serve bad mutate", []string{"serve", "--mutate", "0", "x"}, 1, ""},
		{"serve mutate too often", []string{"serve", "--mutate-every", "10ms", "x"}, 1, ""},
		{"help lists fetch", []string{"--help"}, 0, "fetch"},
		{"fetch help", []string{"fetch", "--help"}, 0, "--no-serve"},
		{"fetch without dir", []string{"fetch"}, 2, ""},
		{"fetch no world", []string{"fetch", "/nonexistent/world"}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.out)
			}
		})
	}
}

func TestWorldCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"world", "--preset", "small", "--width", "3", "--depth", "2", "--faults", "5%",
		"--time", "2025-06-01T12:00:00Z", "--key-cache", t.TempDir(), "-q", "-o", dir,
		"--repo", "a=127.0.0.2:873/mod,127.0.0.2:443", "--repo", "b=127.0.0.3:873/mod,127.0.0.3:443"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "CAs 26,") { // 2 × (1 + 3 + 9)
		t.Errorf("summary %q", stdout.String())
	}
	st, err := world.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Config.Faults != 1 || len(st.Repositories) != 2 || st.Repositories[1].Rsync != "127.0.0.3:873" {
		t.Errorf("config %+v", st.Config)
	}
	if _, err := os.Stat(filepath.Join(dir, "rsync", "127.0.0.3:873", "mod")); err != nil {
		t.Error(err)
	}
	stdout.Reset()
	if code := run([]string{"world", "--mutate", "10", "-o", dir, "--time", "2025-06-01T13:00:00Z", "-q"}, &stdout, &stderr); code != 0 {
		t.Fatalf("mutate: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "mutated 3 publication points") {
		t.Errorf("mutate summary %q", stdout.String())
	}
}

func TestParseRepo(t *testing.T) {
	tests := []struct {
		in   string
		want world.Repository
		ok   bool
	}{
		{"r=127.0.0.1:8873/repo,127.0.0.1:8443", world.Repository{Name: "r", Rsync: "127.0.0.1:8873", Module: "repo", HTTPS: "127.0.0.1:8443"}, true},
		{"r=host/m,host", world.Repository{Name: "r", Rsync: "host", Module: "m", HTTPS: "host"}, true},
		{"missing name", world.Repository{}, false},
		{"r=host,https", world.Repository{}, false},
		{"r=host/m", world.Repository{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRepo(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
}

func TestParseFaults(t *testing.T) {
	cfg := world.Config{TAs: 2, Depth: 2, Width: 9, TopWidth: 9} // 2 × (1 + 9 + 81) = 182 CAs
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"26", 26, true},
		{"10%", 18, true},
		{"0.5%", 1, true},
		{"-1", 0, false},
		{"ten", 0, false},
		{"200%", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseFaults(tc.in, cfg)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

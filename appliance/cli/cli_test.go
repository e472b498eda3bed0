package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/cli"
)

const corpus = "../../../shared/testdata/real/"

func TestCommandLine(t *testing.T) {
	roa := corpus + "rpki-rs/repository/example-ripe.roa"
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{"version short", []string{"-V"}, cli.ExitOK, "rovd " + cli.Version(), ""},
		{"version long", []string{"--version"}, cli.ExitOK, "rovd ", ""},
		{"help", []string{"-h"}, cli.ExitOK, "Usage: rovd [options] <command>", ""},
		{"help lists inspect", []string{"--help"}, cli.ExitOK, "inspect", ""},
		{"no command", nil, cli.ExitError, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, cli.ExitError, "", `unknown command "frobnicate"`},
		{"unknown option", []string{"--frobnicate", "inspect"}, cli.ExitError, "", "unknown flag: --frobnicate"},
		{"inspect help", []string{"inspect", "-h"}, cli.ExitOK, "Usage: rovd [--strict] inspect", ""},
		{"inspect without files", []string{"inspect"}, cli.ExitError, "", "no files given"},
		{"inspect a ROA", []string{"inspect", roa}, cli.ExitOK, "AS209870", ""},
		{"inspect strict rejects BER", []string{"--strict", "inspect", roa}, cli.ExitError, "BER encoding where DER is required", ""},
		{"inspect JSON", []string{"inspect", "--json", roa}, cli.ExitOK, `"type": "ROA"`, ""},
		{"inspect a broken ROA", []string{"inspect", corpus + "rpki-rs/repository/maxlen-underflow.roa"}, cli.ExitError, "maxLength 2 is below the length", ""},
		{"inspect a missing file", []string{"inspect", "/nonexistent/x.roa"}, cli.ExitError, "no such file", ""},
		{"inspect a protocol message", []string{"inspect", corpus + "rpki-rs/ca/rfc6492/list.der"}, cli.ExitError, "not an RPKI repository object", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := cli.Main(append([]string{"rovd"}, tc.args...), &stdout, &stderr)
			if status != tc.status {
				t.Errorf("status %d, want %d\nstdout: %s\nstderr: %s", status, tc.status, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
		})
	}
}

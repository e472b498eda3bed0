package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/output"
)

func TestMan(t *testing.T) {
	page, err := os.ReadFile("rovd.1")
	if err != nil {
		t.Fatal(err)
	}
	// Tests write to a buffer, not a terminal: rovd man prints the source.
	status, out, errs := rovd(t, "man")
	if status != cli.ExitOK || out != string(page) {
		t.Errorf("rovd man: status %d, %d bytes, want the %d of rovd.1: %s", status, len(out), len(page), errs)
	}
	status, out, _ = rovd(t, "man", "--output=-")
	if status != cli.ExitOK || out != string(page) {
		t.Errorf("rovd man -o -: status %d, %d bytes", status, len(out))
	}
	file := filepath.Join(t.TempDir(), "rovd.1")
	status, out, errs = rovd(t, "man", "-o", file)
	if data, err := os.ReadFile(file); status != cli.ExitOK || out != "" || !bytes.Equal(data, page) {
		t.Errorf("rovd man -o FILE: status %d, stdout %q, file %v: %s", status, out, err, errs)
	}
	status, _, errs = rovd(t, "man", "-o", filepath.Join(t.TempDir(), "missing", "rovd.1"))
	if status != cli.ExitError || !strings.Contains(errs, "rovd man:") {
		t.Errorf("unwritable file: status %d, %q", status, errs)
	}
}

// renderMan formats the page as text with groff, failing on any warning,
// and returns it with typographic hyphens and minus signs made plain.
func renderMan(t *testing.T) string {
	t.Helper()
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed (Debian package groff-base); it renders the manual page")
	}
	// Long lines and no hyphenation keep every option on one line; -P-cbou
	// drops bold and underlining.
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-rLL=250n", "-rHY=0", "-P-cbou", "rovd.1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("groff: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("groff warns:\n%s", stderr.String())
	}
	return strings.NewReplacer("\u2010", "-", "\u2011", "-", "\u2212", "-").Replace(stdout.String())
}

// section returns the rendered text of the section titled name.
func section(t *testing.T, text, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^` + regexp.QuoteMeta(name) + `\n(.*?)(\n^[A-Z][A-Z ]+$|\z)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no section %s", name)
	}
	return m[1]
}

// subsection returns the rendered text of a command's subsection.
func subsection(t *testing.T, text, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^   ` + regexp.QuoteMeta(name) + `\n(.*?)(\n^   \S|\z)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no subsection %s", name)
	}
	return m[1]
}

// option is one line of an options list in -h output.
var optionLine = regexp.MustCompile(`^  (?:-(\w), )?\s*--([a-z0-9-]+)`)

// helpOptions runs rovd with args (ending in -h) and returns the options
// it lists: long name to shorthand.
func helpOptions(t *testing.T, args ...string) map[string]string {
	t.Helper()
	status, out, errs := rovd(t, args...)
	if status != cli.ExitOK {
		t.Fatalf("%v: status %d: %s", args, status, errs)
	}
	opts := map[string]string{}
	_, list, ok := strings.Cut(out, "Options:\n")
	if !ok {
		t.Fatalf("%v: no options:\n%s", args, out)
	}
	for l := range strings.Lines(list) {
		if m := optionLine.FindStringSubmatch(l); m != nil {
			opts[m[2]] = m[1]
		}
	}
	if len(opts) == 0 {
		t.Fatalf("%v: no options found:\n%s", args, out)
	}
	return opts
}

// checkOptions reports the options of the map that text does not
// describe: "--name" must appear, and "-x, --name" for a shorthand.
func checkOptions(t *testing.T, where, text string, opts map[string]string) {
	t.Helper()
	for name, short := range opts {
		long := regexp.MustCompile(`(^|[^a-z0-9-])--` + regexp.QuoteMeta(name) + `($|[^a-z0-9-])`)
		if !long.MatchString(text) {
			t.Errorf("%s: option --%s is not in the manual page", where, name)
		}
		if short != "" && !strings.Contains(text, "-"+short+", --"+name) {
			t.Errorf("%s: option -%s, --%s is not in the manual page", where, short, name)
		}
	}
}

// TestManCoversEverything renders the page and checks it against the
// program: every command, every option of rovd -h and of each command's
// -h, every config file key and every output format. A new option fails
// this test until the page describes it.
func TestManCoversEverything(t *testing.T) {
	text := renderMan(t)
	for _, s := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "CONFIGURATION FILE", "EXIT STATUS", "FILES"} {
		section(t, text, s)
	}
	checkOptions(t, "rovd -h", section(t, text, "OPTIONS"), helpOptions(t, "-h"))

	commands := section(t, text, "COMMANDS")
	// -h after a command is described once, with the global options.
	if !strings.Contains(section(t, text, "OPTIONS"), "After a command, prints that command's options") {
		t.Error("-h after a command is not described")
	}
	for _, name := range cli.CommandNames() {
		sub := subsection(t, commands, name)
		if name == "config" {
			// config takes the server's options, which the server
			// command's part of the page describes.
			sub += subsection(t, commands, "server")
		}
		opts := helpOptions(t, name, "-h")
		delete(opts, "help")
		checkOptions(t, "rovd "+name+" -h", sub, opts)
		if !regexp.MustCompile(`(?m)^ +rovd .*\b` + name + `\b`).MatchString(section(t, text, "SYNOPSIS")) {
			t.Errorf("command %s is not in the synopsis", name)
		}
	}

	keys := section(t, text, "CONFIGURATION FILE")
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("toml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if !regexp.MustCompile(`(?m)^       ([a-z0-9-]+, )*` + regexp.QuoteMeta(key) + `(,|\s|$)`).MatchString(keys) {
			t.Errorf("config key %s is not in the manual page", key)
		}
	}

	vrps := subsection(t, commands, "vrps")
	for _, f := range output.Formats {
		if !regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(f) + `( |$)`).MatchString(vrps) {
			t.Errorf("output format %s is not in the manual page", f)
		}
	}
	for _, status := range []int{cli.ExitOK, cli.ExitError, cli.ExitIncomplete} {
		if !regexp.MustCompile(`(?m)^       ` + string(rune('0'+status)) + `\s`).MatchString(section(t, text, "EXIT STATUS")) {
			t.Errorf("exit status %d is not in the manual page", status)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"init", "-h"}, []string{"Usage: rovd [options] init", "--accept-arin-rpa", "--list-tals", "-f, --force"}},
		{[]string{"validate", "--help"}, []string{"Usage: rovd [options] validate", "-a, --asn=NUMBER", "-i, --input=FILE", "-j, --json"}},
		{[]string{"man", "-h"}, []string{"Usage: rovd [options] man", "-o, --output=FILE"}},
	} {
		status, out, errs := rovd(t, tc.args...)
		if status != cli.ExitOK || errs != "" {
			t.Errorf("%v: status %d, stderr %q", tc.args, status, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}

package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/tals"
)

// installed returns the names of the TAL files in dir, sorted.
func installed(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	slices.Sort(names)
	return names
}

func TestInit(t *testing.T) {
	rir := []string{"afrinic.tal", "apnic.tal", "arin.tal", "lacnic.tal", "ripe.tal"}
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		want   []string // TAL files installed, nil: no TAL directory
		stderr string
	}{
		{"default needs the ARIN RPA", []string{"init"}, cli.ExitError, nil, "--accept-arin-rpa"},
		{"default with the RPA", []string{"init", "--accept-arin-rpa"}, cli.ExitOK, rir, "Installed 5 TALs in"},
		{"default without ARIN", []string{"init", "--skip-tal", "arin"}, cli.ExitOK, []string{"afrinic.tal", "apnic.tal", "lacnic.tal", "ripe.tal"}, ""},
		{"rir-tals", []string{"init", "--rir-tals", "--accept-arin-rpa"}, cli.ExitOK, rir, ""},
		{"rir-test-tals", []string{"init", "--rir-test-tals"}, cli.ExitOK, []string{"apnic-testbed.tal", "arin-ote.tal", "ripe-pilot.tal"}, ""},
		{"named TALs", []string{"init", "--tal", "ripe", "--tal=nlnetlabs-testbed"}, cli.ExitOK, []string{"nlnetlabs-testbed.tal", "ripe.tal"}, "Installed 2 TALs"},
		{"both sets less one", []string{"init", "--rir-tals", "--rir-test-tals", "--skip-tal", "arin", "--skip-tal", "ripe-pilot"}, cli.ExitOK,
			[]string{"afrinic.tal", "apnic-testbed.tal", "apnic.tal", "arin-ote.tal", "lacnic.tal", "ripe.tal"}, ""},
		{"unknown TAL", []string{"init", "--tal", "iana"}, cli.ExitError, nil, `unknown TAL "iana"`},
		{"skipping a TAL not selected", []string{"init", "--accept-arin-rpa", "--skip-tal", "ripe-pilot"}, cli.ExitError, nil, "not selected"},
		{"extra argument", []string{"init", "ripe"}, cli.ExitError, nil, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			talDir := filepath.Join(base, "tals")
			status, _, errs := rovd(t, append([]string{"-r", filepath.Join(base, "repo"), "-t", talDir}, tc.args...)...)
			if status != tc.status || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("status %d, stderr %q; want %d and %q", status, errs, tc.status, tc.stderr)
			}
			if tc.want == nil {
				if _, err := os.Stat(talDir); !os.IsNotExist(err) {
					t.Errorf("TAL directory created on failure: %v", err)
				}
				return
			}
			if got := installed(t, talDir); !slices.Equal(got, tc.want) {
				t.Errorf("installed %v, want %v", got, tc.want)
			}
			if fi, err := os.Stat(filepath.Join(base, "repo")); err != nil || !fi.IsDir() {
				t.Errorf("repository directory: %v", err)
			}
			for _, name := range tc.want {
				b, _ := tals.Lookup(strings.TrimSuffix(name, ".tal"))
				data, err := os.ReadFile(filepath.Join(talDir, name))
				if err != nil || !bytes.Equal(data, b.Content) {
					t.Errorf("%s: content differs from the bundled TAL (%v)", name, err)
				}
			}
		})
	}
}

// TestInitExistingDirectory checks -f: an existing TAL directory is left
// alone without it; with it, the chosen TALs are added and other files
// kept.
func TestInitExistingDirectory(t *testing.T) {
	base := t.TempDir()
	talDir := filepath.Join(base, "tals")
	args := func(extra ...string) []string { return append([]string{"-b", base}, extra...) }
	if status, _, errs := rovd(t, args("init", "--tal", "ripe")...); status != cli.ExitOK {
		t.Fatalf("first init: %d %s", status, errs)
	}
	// -b puts the repository and TALs below the base directory.
	if got := installed(t, base); !slices.Equal(got, []string{"repository", "tals"}) {
		t.Errorf("base directory holds %v", got)
	}
	own := filepath.Join(talDir, "own.tal")
	if err := os.WriteFile(own, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, errs := rovd(t, args("init", "--tal", "apnic")...)
	if status != cli.ExitError || !strings.Contains(errs, "exists; use -f") {
		t.Errorf("init over an existing directory: status %d, %q", status, errs)
	}
	if status, _, errs := rovd(t, args("-q", "init", "-f", "--tal", "apnic")...); status != cli.ExitOK || errs != "" {
		t.Fatalf("init -f -q: %d %q", status, errs)
	}
	if got := installed(t, talDir); !slices.Equal(got, []string{"apnic.tal", "own.tal", "ripe.tal"}) {
		t.Errorf("after -f: %v", got)
	}
	if data, _ := os.ReadFile(own); string(data) != "mine" {
		t.Error("init -f changed a file it does not own")
	}

	file := filepath.Join(base, "plain")
	os.WriteFile(file, nil, 0o644)
	status, _, errs = rovd(t, "-t", file, "-r", filepath.Join(base, "r2"), "init", "-f", "--tal", "ripe")
	if status != cli.ExitError || !strings.Contains(errs, "not a directory") {
		t.Errorf("TAL directory is a file: status %d, %q", status, errs)
	}
}

func TestInitListTALs(t *testing.T) {
	base := t.TempDir()
	status, out, errs := rovd(t, "-b", base, "init", "--list-tals")
	if status != cli.ExitOK {
		t.Fatalf("status %d: %s", status, errs)
	}
	for _, b := range tals.All() {
		var line string
		for l := range strings.Lines(out) {
			if f := strings.Fields(l); slices.Contains(f, b.Name) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("%s not listed:\n%s", b.Name, out)
			continue
		}
		// The marks sit in the columns of the header's arrows.
		rirMark, testMark := line[1] == 'X', line[4] == 'X'
		if rirMark != (b.Category == tals.Production) || testMark != (b.Category == tals.RIRTestbed) {
			t.Errorf("wrong marks for %s: %q", b.Name, line)
		}
		if !strings.Contains(line, b.Description) {
			t.Errorf("no description for %s: %q", b.Name, line)
		}
	}
	if !strings.Contains(out, "--rir-tals") || !strings.Contains(out, "--rir-test-tals") {
		t.Errorf("header missing:\n%s", out)
	}
	if got := installed(t, base); len(got) != 0 {
		t.Errorf("--list-tals created %v", got)
	}
}

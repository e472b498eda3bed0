package cli_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/validity"
	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/engine/payload"
)

// tinyWorld serves one trust anchor with a few CAs and ROAs over RRDP:
// enough VRPs for every validity state, quick to build.
func tinyWorld(t *testing.T) *serve.Server {
	cfg, err := world.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TAs, cfg.Depth, cfg.TopWidth, cfg.Width = 1, 1, 4, 0
	cfg.Faults = 0
	cfg.Repositories = world.DefaultRepositories(1)
	return serve.World(t, cfg, serve.Options{NoRsync: true})
}

// truthSet builds the payload set a correct run of the world gives.
func truthSet(t *testing.T, dir string) *payload.Set {
	t.Helper()
	var b payload.Builder
	for _, l := range truthLines(t, dir) {
		f := strings.Split(l, ",")
		asn, err := strconv.ParseUint(strings.TrimPrefix(f[0], "AS"), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		ml, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatal(err)
		}
		b.AddVRP(payload.VRP{ASN: uint32(asn), Prefix: netip.MustParsePrefix(f[1]), MaxLength: uint8(ml)}, nil)
	}
	return b.Build()
}

// testRoutes picks routes of every state from the set's VRPs.
func testRoutes(t *testing.T, set *payload.Set) []validity.Route {
	vrps := set.VRPs()
	if len(vrps) < 2 {
		t.Fatalf("world has %d VRPs", len(vrps))
	}
	v, w := vrps[0], vrps[len(vrps)-1]
	longer := min(v.MaxLength+1, uint8(v.Prefix.Addr().BitLen()))
	return []validity.Route{
		{Prefix: v.Prefix, ASN: v.ASN},
		{Prefix: w.Prefix, ASN: w.ASN},
		{Prefix: v.Prefix, ASN: 4294967294},
		{Prefix: netip.PrefixFrom(v.Prefix.Addr(), int(longer)), ASN: v.ASN},
		{Prefix: netip.MustParsePrefix("198.18.0.0/15"), ASN: 64496},
	}
}

var generatedTime = regexp.MustCompile(`"generatedTime": "[^"]*"`)

// sameJSON compares JSON outputs but for the time of the run.
func sameJSON(got, want string) bool {
	return generatedTime.ReplaceAllString(got, "") == generatedTime.ReplaceAllString(want, "")
}

// TestValidateServedWorld runs the validate examples of the manual
// against a served world and compares their output with what the
// world's ground truth gives.
func TestValidateServedWorld(t *testing.T) {
	srv := tinyWorld(t)
	repo := t.TempDir()
	with := func(args ...string) []string {
		return append([]string{"-r", repo, "-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(), "-q"}, args...)
	}
	truth := truthSet(t, srv.Dir())
	routes := testRoutes(t, truth)
	var wantText, wantJSON bytes.Buffer
	if err := validity.WriteText(&wantText, truth, routes); err != nil {
		t.Fatal(err)
	}
	if err := validity.WriteJSON(&wantJSON, truth, routes, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{": valid\n", ": invalid\n", ": not-found\n"} {
		if !strings.Contains(wantText.String(), state) {
			t.Fatalf("no route is %q:\n%s", state, wantText.String())
		}
	}
	first := routes[0]
	firstLine := strings.SplitAfter(wantText.String(), "\n")[0]

	// rovd validate -a ASN -p PREFIX, updating the repository first.
	status, out, errs := rovd(t, with("validate", "-a", "AS"+strconv.Itoa(int(first.ASN)), "-p", first.Prefix.String())...)
	if status != cli.ExitOK || out != firstLine {
		t.Fatalf("validate -a -p: status %d, %q, want %q: %s", status, out, firstLine, errs)
	}

	dir := t.TempDir()
	plain := filepath.Join(dir, "routes.txt")
	var lines strings.Builder
	lines.WriteString("# routes to check\n")
	for _, r := range routes {
		lines.WriteString(r.Prefix.String() + " => AS" + strconv.Itoa(int(r.ASN)) + "\n")
	}
	os.WriteFile(plain, []byte(lines.String()), 0o644)
	jsonIn := filepath.Join(dir, "routes.json")
	var doc strings.Builder
	doc.WriteString(`{"routes": [`)
	for i, r := range routes {
		if i > 0 {
			doc.WriteString(", ")
		}
		// The ASN as a number, or as a string with AS like the manual's
		// example.
		asn := strconv.Itoa(int(r.ASN))
		if i%2 == 0 {
			asn = `"AS` + asn + `"`
		}
		doc.WriteString(`{"asn": ` + asn + `, "prefix": "` + r.Prefix.String() + `"}`)
	}
	doc.WriteString("]}")
	os.WriteFile(jsonIn, []byte(doc.String()), 0o644)

	single := func() string {
		var b bytes.Buffer
		validity.WriteJSON(&b, truth, routes[:1], time.Now())
		return b.String()
	}()
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
		json  bool
	}{
		{"single route, short options", []string{"-n", "-a", strconv.Itoa(int(first.ASN)), "-p", first.Prefix.String()}, "", firstLine, false},
		{"single route, JSON", []string{"--noupdate", "--json", "--asn", strconv.Itoa(int(first.ASN)), "--prefix", first.Prefix.String()}, "", single, true},
		{"plain input file", []string{"-n", "--input", plain}, "", wantText.String(), false},
		{"plain input on stdin", []string{"-n", "-i", "-"}, lines.String(), wantText.String(), false},
		{"JSON input file", []string{"-n", "--json", "--input", jsonIn}, "", wantJSON.String(), true},
		{"JSON input on stdin", []string{"-n", "-j", "-i", "-"}, doc.String(), wantJSON.String(), true},
		{"complete after a good update", []string{"-n", "--complete", "-i", plain}, "", wantText.String(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer cli.SetStdin(strings.NewReader(tc.stdin))()
			status, out, errs := rovd(t, with(append([]string{"validate"}, tc.args...)...)...)
			if status != cli.ExitOK {
				t.Fatalf("status %d: %s", status, errs)
			}
			if tc.json {
				if !json.Valid([]byte(out)) || !sameJSON(out, tc.want) {
					t.Errorf("got\n%s\nwant\n%s", out, tc.want)
				}
			} else if out != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out, tc.want)
			}
		})
	}

	t.Run("output file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.json")
		status, out, errs := rovd(t, with("validate", "-n", "-j", "-i", jsonIn, "-o", file)...)
		if status != cli.ExitOK || out != "" {
			t.Fatalf("status %d, stdout %q: %s", status, out, errs)
		}
		data, err := os.ReadFile(file)
		if err != nil || !sameJSON(string(data), wantJSON.String()) {
			t.Errorf("output file (%v):\n%s", err, data)
		}
	})

	// With the servers gone, the update fails: the output still comes,
	// and --complete says it is based on old data.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	status, out, errs = rovd(t, with("--rrdp-timeout", "2", "validate", "--complete", "-i", plain)...)
	if status != cli.ExitIncomplete || out != wantText.String() {
		t.Errorf("validate --complete without servers: status %d, want %d, output\n%s\n%s", status, cli.ExitIncomplete, out, errs)
	}
}

// TestValidateErrors checks that mistakes in the options and the input
// are reported before any validation, with status 1.
func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("192.0.2.0/24 => AS1\n192.0.2.0/24 -> AS2\n"), 0o644)
	// The repository does not exist: any error but the expected one
	// would be about that.
	base := []string{"-r", filepath.Join(dir, "none"), "-t", filepath.Join(dir, "none")}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"nothing to validate", []string{"validate", "-n"}, "", "give a route with both --asn and --prefix"},
		{"ASN without prefix", []string{"validate", "-a", "AS1"}, "", "both --asn and --prefix"},
		{"prefix without ASN", []string{"validate", "-p", "192.0.2.0/24"}, "", "both --asn and --prefix"},
		{"input and a route", []string{"validate", "-i", bad, "-a", "1"}, "", "cannot be combined"},
		{"bad ASN", []string{"validate", "-a", "ASx", "-p", "192.0.2.0/24"}, "", "--asn: invalid AS number"},
		{"bad prefix", []string{"validate", "-a", "1", "-p", "192.0.2.0/33"}, "", "--prefix: invalid prefix"},
		{"host bits", []string{"validate", "-a", "1", "-p", "192.0.2.1/24"}, "", "host bits set"},
		{"missing input file", []string{"validate", "-i", filepath.Join(dir, "missing")}, "", "--input: open"},
		{"bad input line", []string{"validate", "-i", bad}, "", "bad.txt: line 2: expected '=>'"},
		{"plain input read as JSON", []string{"validate", "-j", "-i", bad}, "", "JSON input"},
		{"bad stdin", []string{"validate", "-i", "-"}, "x => 1\n", "standard input: line 1: invalid prefix"},
		{"extra argument", []string{"validate", "-a", "1", "-p", "192.0.2.0/24", "more"}, "", "unexpected argument"},
		{"unknown option", []string{"validate", "--frobnicate"}, "", "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer cli.SetStdin(strings.NewReader(tc.stdin))()
			status, out, errs := rovd(t, append(base, tc.args...)...)
			if status != cli.ExitError || !strings.Contains(errs, tc.want) || out != "" {
				t.Errorf("status %d, stdout %q, stderr %q; want 1 and %q", status, out, errs, tc.want)
			}
		})
	}
}

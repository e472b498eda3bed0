package output_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/engine/payload"
)

// The router configuration formats are checked with the routers' own
// configuration parsers: BIRD 2 (Debian package bird2), BIRD 1 (package
// bird, which conflicts with bird2, so it is found through $ROVD_BIRD1)
// and OpenBGPD (package openbgpd). Each test skips when its program is
// missing.

// parserTimeout bounds one run of a configuration parser.
const parserTimeout = 30 * time.Second

// parserSets are the sets the parsers read: the sample set (AS0, IPv4
// and IPv6, maximum lengths at and above the prefix length, exceptions)
// and a larger generated one.
func parserSets(t *testing.T) map[string]*payload.Set {
	return map[string]*payload.Set{"sample": sampleSet(t), "generated": genSet(2000)}
}

// run runs a program and returns its combined output and whether it
// exited with status 0.
func run(t *testing.T, prog string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), parserTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: %v", prog, strings.Join(args, " "), ctx.Err())
	}
	return string(out), err == nil
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// splitFamilies splits BIRD output into its IPv4 and IPv6 lines: a BIRD
// 2 static protocol has a single roa4 or roa6 channel, and BIRD 1 runs
// IPv4 and IPv6 as separate daemons, so each family goes into its own
// part of the configuration, as an operator would include it.
func splitFamilies(out []byte) (v4, v6 []byte) {
	for line := range bytes.Lines(out) {
		if bytes.IndexByte(line, ':') >= 0 {
			v6 = append(v6, line...)
		} else {
			v4 = append(v4, line...)
		}
	}
	return v4, v6
}

// birdVersion returns the major version bird reports, 0 if it reports
// none.
func birdVersion(t *testing.T, bird string) int {
	out, _ := run(t, bird, "--version")
	_, v, ok := strings.Cut(out, "BIRD version ")
	if !ok || v == "" {
		return 0
	}
	n, _ := strconv.Atoi(v[:1])
	return n
}

// TestBIRD2Parses loads the bird2 output into BIRD 2's configuration
// parser (bird -p): the IPv4 routes in a static protocol on a roa4
// channel, the IPv6 routes in one on a roa6 channel.
func TestBIRD2Parses(t *testing.T) {
	bird, err := exec.LookPath("bird")
	if err != nil || birdVersion(t, bird) != 2 {
		t.Skip("BIRD 2 is not installed (Debian package bird2): the bird2 output is not checked")
	}
	config := func(dir string, v4, v6 []byte) string {
		return writeFile(t, filepath.Join(dir, "bird.conf"), fmt.Appendf(nil, `router id 192.0.2.1;
roa4 table rovd_roa4;
roa6 table rovd_roa6;
protocol static rovd4 {
	roa4 { table rovd_roa4; };
	include "%s";
}
protocol static rovd6 {
	roa6 { table rovd_roa6; };
	include "%s";
}
`, writeFile(t, filepath.Join(dir, "v4.conf"), v4), writeFile(t, filepath.Join(dir, "v6.conf"), v6)))
	}
	for name, set := range parserSets(t) {
		t.Run(name, func(t *testing.T) {
			v4, v6 := splitFamilies(render(t, set, output.Options{Format: "bird2"}))
			if out, ok := run(t, bird, "-p", "-c", config(t.TempDir(), v4, v6)); !ok {
				t.Errorf("bird -p rejects the bird2 output: %s", out)
			}
		})
	}
	// The check means something only if bird -p reads the included
	// routes: a maximum length below the prefix length must fail.
	bad := []byte("route 192.0.2.0/24 max 16 as 64496;\n")
	if _, ok := run(t, bird, "-p", "-c", config(t.TempDir(), bad, nil)); ok {
		t.Error("bird -p accepts a broken route")
	}
}

// TestBIRD1Parses loads the bird1 output into BIRD 1's parser: the IPv4
// lines into bird's "roa table", the IPv6 lines into bird6's. Debian's
// bird package conflicts with bird2; unpack it aside (apt-get download
// bird; dpkg -x bird_*.deb DIR) and set ROVD_BIRD1=DIR/usr/sbin/bird.
func TestBIRD1Parses(t *testing.T) {
	bird := os.Getenv("ROVD_BIRD1")
	if bird == "" {
		if p, err := exec.LookPath("bird6"); err == nil {
			bird = filepath.Join(filepath.Dir(p), "bird")
		}
	}
	bird6 := filepath.Join(filepath.Dir(bird), "bird6")
	if bird == "" || birdVersion(t, bird) != 1 || birdVersion(t, bird6) != 1 {
		t.Skip("BIRD 1 is not installed (Debian package bird, which conflicts with bird2; set ROVD_BIRD1): the bird1 output is not checked")
	}
	config := func(dir, family string, lines []byte) string {
		return writeFile(t, filepath.Join(dir, "bird-"+family+".conf"), fmt.Appendf(nil, `router id 192.0.2.1;
roa table rovd {
	include "%s";
}
protocol device { }
`, writeFile(t, filepath.Join(dir, family+".conf"), lines)))
	}
	for name, set := range parserSets(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			v4, v6 := splitFamilies(render(t, set, output.Options{Format: "bird1"}))
			if out, ok := run(t, bird, "-p", "-c", config(dir, "v4", v4)); !ok {
				t.Errorf("bird -p rejects the IPv4 part of the bird1 output: %s", out)
			}
			if out, ok := run(t, bird6, "-p", "-c", config(dir, "v6", v6)); !ok {
				t.Errorf("bird6 -p rejects the IPv6 part of the bird1 output: %s", out)
			}
		})
	}
	if _, ok := run(t, bird, "-p", "-c", config(t.TempDir(), "v4", []byte("roa 192.0.2.0/24 max 24 as 64496\n"))); ok {
		t.Error("bird -p accepts a broken roa line")
	}
}

// TestOpenBGPDParses loads the openbgpd output into bgpd's parser (bgpd
// -n) and compares the roa-set bgpd prints back (-v) with the VRPs.
func TestOpenBGPDParses(t *testing.T) {
	bgpd, err := exec.LookPath("bgpd")
	if err != nil {
		t.Skip("OpenBGPD is not installed (Debian package openbgpd): the openbgpd output is not checked")
	}
	config := func(dir string, roaSet []byte) string {
		return writeFile(t, filepath.Join(dir, "bgpd.conf"), fmt.Appendf(nil, "AS 64496\nrouter-id 192.0.2.1\ninclude \"%s\"\n",
			writeFile(t, filepath.Join(dir, "roa-set.conf"), roaSet)))
	}
	for name, set := range parserSets(t) {
		t.Run(name, func(t *testing.T) {
			out, ok := run(t, bgpd, "-nv", "-f", config(t.TempDir(), render(t, set, output.Options{Format: "openbgpd"})))
			if !ok {
				t.Fatalf("bgpd -n rejects the openbgpd output: %s", out)
			}
			got := printedROASet(t, out)
			want := set.VRPs()
			// bgpd keeps a VRP once per prefix, maxlen and AS, as the set
			// does, but prints them in an order of its own.
			slices.SortFunc(got, payload.VRP.Compare)
			if !slices.Equal(got, want) {
				t.Errorf("bgpd read %d VRPs, the set has %d; first difference at %v", len(got), len(want), firstDiff(got, want))
			}
		})
	}
	bad := []byte("roa-set {\n    192.0.2.0/24 maxlen 16 source-as 64496\n}\n")
	if _, ok := run(t, bgpd, "-n", "-f", config(t.TempDir(), bad)); ok {
		t.Error("bgpd -n accepts a maxlen below the prefix length")
	}
}

// printedROASet reads the roa-set block of bgpd -nv's output: lines of
// "PREFIX [maxlen N] source-as AS".
func printedROASet(t *testing.T, out string) []payload.VRP {
	t.Helper()
	var vrps []payload.VRP
	in := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "roa-set {":
			in = true
			continue
		case !in || line == "":
			continue
		case line == "}":
			return vrps
		}
		f := strings.Fields(line)
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			t.Fatalf("bgpd printed %q", line)
		}
		v := payload.VRP{Prefix: p, MaxLength: uint8(p.Bits())}
		if len(f) == 5 && f[1] == "maxlen" {
			n, _ := strconv.Atoi(f[2])
			v.MaxLength = uint8(n)
			f = append(f[:1], f[3:]...)
		}
		if len(f) != 3 || f[1] != "source-as" {
			t.Fatalf("bgpd printed %q", line)
		}
		asn, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			t.Fatalf("bgpd printed %q", line)
		}
		v.ASN = uint32(asn)
		vrps = append(vrps, v)
	}
	t.Fatalf("no roa-set in bgpd's output:\n%s", out)
	return nil
}

func firstDiff(a, b []payload.VRP) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%d: %v / %v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("end of the shorter list (%d)", min(len(a), len(b)))
}

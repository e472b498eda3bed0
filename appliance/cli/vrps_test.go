package cli_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/dump"
	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/bench/world/serve"
	"github.com/rovd/rovd/engine/payload"
)

// rovd runs the command line and returns the exit status and output.
func rovd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := cli.Main(append([]string{"rovd"}, args...), &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

// csvLines returns the sorted lines of a VRP csv without its header.
func csvLines(t *testing.T, text string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || lines[0] != "ASN,IP Prefix,Max Length,Trust Anchor" {
		t.Fatalf("csv header %q", lines[0])
	}
	lines = lines[1:]
	slices.Sort(lines)
	return lines
}

func truthLines(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "truth", "vrps.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return csvLines(t, string(data))
}

// TestVRPsServedWorld runs rovd against the small world served on
// loopback: vrps over RRDP and over rsync give the ground truth; -n, the
// selectors, the json and summary formats, update, --complete and dump
// behave as the manual says.
func TestVRPsServedWorld(t *testing.T) {
	srv := serve.SmallWorld(t, serve.Options{})
	base := []string{"-t", srv.TALDir(), "--allow-dubious-hosts", "--rrdp-root-cert", srv.CAFile(), "-q"}
	repo := t.TempDir()
	with := func(extra ...string) []string {
		return append(append([]string{"-r", repo}, base...), extra...)
	}
	want := truthLines(t, srv.Dir())

	status, out, errs := rovd(t, with("vrps", "-f", "csv")...)
	if status != cli.ExitOK {
		t.Fatalf("vrps: status %d: %s", status, errs)
	}
	if got := csvLines(t, out); !slices.Equal(got, want) {
		t.Errorf("vrps over RRDP: %d VRPs, truth has %d", len(got), len(want))
	}

	t.Run("rsync only", func(t *testing.T) {
		other := t.TempDir()
		status, out, errs := rovd(t, append(append([]string{"-r", other}, base...), "--disable-rrdp", "vrps")...)
		if status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		if got := csvLines(t, out); !slices.Equal(got, want) {
			t.Errorf("vrps over rsync: %d VRPs, truth has %d", len(got), len(want))
		}
	})

	t.Run("noupdate and selectors", func(t *testing.T) {
		asn, prefix := strings.Split(want[0], ",")[0], strings.Split(want[len(want)-1], ",")[1]
		status, out, errs := rovd(t, with("vrps", "-n", "-a", asn, "-p", prefix)...)
		if status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		sel := netip.MustParsePrefix(prefix)
		for _, l := range csvLines(t, out) {
			f := strings.Split(l, ",")
			p := netip.MustParsePrefix(f[1])
			if f[0] != asn && !(p.Bits() <= sel.Bits() && p.Contains(sel.Addr())) {
				t.Errorf("%s matches neither %s nor %s", l, asn, prefix)
			}
		}
		if got := csvLines(t, out); len(got) == 0 || len(got) >= len(want) {
			t.Errorf("%d VRPs selected of %d", len(got), len(want))
		}
	})

	t.Run("json", func(t *testing.T) {
		status, out, errs := rovd(t, with("vrps", "-n", "-f", "json")...)
		if status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		var doc struct {
			ROAs []struct {
				ASN       string `json:"asn"`
				Prefix    string `json:"prefix"`
				MaxLength int    `json:"maxLength"`
				TA        string `json:"ta"`
			} `json:"roas"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.ROAs) != len(want) {
			t.Errorf("%d roas in json, want %d", len(doc.ROAs), len(want))
		}
	})

	t.Run("every format", func(t *testing.T) {
		// Each format of -f runs and holds every VRP; the golden files and
		// parser checks of appliance/output cover the details.
		for _, f := range output.Formats {
			status, out, errs := rovd(t, with("--enable-aspa", "--enable-bgpsec", "vrps", "-n", "-f", f)...)
			if status != cli.ExitOK {
				t.Errorf("-f %s: status %d: %s", f, status, errs)
				continue
			}
			lines := strings.Count(out, "\n")
			var n int // VRPs found in the output
			switch f {
			case "csv", "csvcompat", "csvext":
				n = lines - 1
			case "json", "jsonext":
				var doc struct {
					ROAs       []json.RawMessage `json:"roas"`
					RouterKeys []json.RawMessage `json:"routerKeys"`
					ASPAs      []json.RawMessage `json:"aspas"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.RouterKeys == nil || doc.ASPAs == nil {
					t.Errorf("-f %s: %v, routerKeys %v, aspas %v", f, err, doc.RouterKeys != nil, doc.ASPAs != nil)
				}
				n = len(doc.ROAs)
			case "slurm":
				s, err := payload.ParseSLURM([]byte(out))
				if err != nil {
					t.Fatalf("-f slurm: %v", err)
				}
				n = len(s.PrefixAssertions)
			case "openbgpd":
				n = lines - 2
			case "bird1", "bird2":
				n = lines
			case "rpsl":
				n = strings.Count(out, "\norigin: AS")
			case "summary", "none":
				n = len(want)
				if (f == "none") != (out == "") {
					t.Errorf("-f %s: %d bytes of output", f, len(out))
				}
			}
			if n != len(want) {
				t.Errorf("-f %s: %d VRPs, want %d", f, n, len(want))
			}
		}
		status, _, errs := rovd(t, with("vrps", "-n", "-f", "bird3")...)
		if status != cli.ExitError || !strings.Contains(errs, "--format") || !strings.Contains(errs, `"bird3"`) || !strings.Contains(errs, "bird2") {
			t.Errorf("unknown format: status %d: %s", status, errs)
		}
	})

	t.Run("summary", func(t *testing.T) {
		status, out, _ := rovd(t, with("vrps", "-n", "-f", "summary")...)
		if status != cli.ExitOK || !strings.Contains(out, "total:") || !strings.Contains(out, "VRPs:") {
			t.Errorf("status %d, summary:\n%s", status, out)
		}
	})

	t.Run("output file and bad format", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "vrps.csv")
		if status, _, errs := rovd(t, with("vrps", "-n", "-o", file)...); status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		data, err := os.ReadFile(file)
		if err != nil || len(csvLines(t, string(data))) != len(want) {
			t.Errorf("output file: %v", err)
		}
		if status, _, errs := rovd(t, with("vrps", "-n", "-f", "frobnicate")...); status != cli.ExitError || !strings.Contains(errs, "frobnicate") {
			t.Errorf("bad format: status %d: %s", status, errs)
		}
	})

	t.Run("dump", func(t *testing.T) {
		out := t.TempDir()
		if status, _, errs := rovd(t, with("dump", "-o", out)...); status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		data, err := os.ReadFile(filepath.Join(out, "repositories.json"))
		if err != nil {
			t.Fatal(err)
		}
		var idx dump.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			t.Fatal(err)
		}
		if len(idx.RRDP) != 2 || len(idx.HTTPS) != 2 {
			t.Errorf("repositories.json: %d RRDP, %d HTTPS", len(idx.RRDP), len(idx.HTTPS))
		}
		mfts, _ := filepath.Glob(filepath.Join(out, "store", "*", "*", "*", "*.mft"))
		if len(mfts) < 100 {
			t.Errorf("%d manifests in store/", len(mfts))
		}
	})

	t.Run("exceptions", func(t *testing.T) {
		asn := strings.Split(want[0], ",")[0]
		slurm := filepath.Join(t.TempDir(), "local.json")
		doc := `{"slurmVersion": 1,
  "validationOutputFilters": {"prefixFilters": [{"asn": ` + strings.TrimPrefix(asn, "AS") + `}], "bgpsecFilters": []},
  "locallyAddedAssertions": {"prefixAssertions": [{"asn": 64496, "prefix": "198.51.100.0/24", "maxPrefixLength": 24}], "bgpsecAssertions": []}}`
		if err := os.WriteFile(slurm, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		status, out, errs := rovd(t, with("-x", slurm, "vrps", "-n")...)
		if status != cli.ExitOK {
			t.Fatalf("status %d: %s", status, errs)
		}
		got := csvLines(t, out)
		if !slices.Contains(got, "AS64496,198.51.100.0/24,24,N/A") {
			t.Error("the asserted VRP is missing")
		}
		for _, l := range got {
			if strings.HasPrefix(l, asn+",") {
				t.Errorf("%s not filtered", l)
			}
		}
		bad := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(bad, []byte(`{"slurmVersion": 2}`), 0o644)
		if status, _, errs := rovd(t, with("-x", bad, "vrps", "-n")...); status != cli.ExitError || !strings.Contains(errs, "bad.json") {
			t.Errorf("bad exceptions file: status %d: %s", status, errs)
		}
	})

	t.Run("dubious hosts and object size", func(t *testing.T) {
		// The world lives on 127.0.0.1 with ports: without
		// --allow-dubious-hosts nothing of it is fetched. With objects
		// capped below their size, no repository can be stored.
		for _, args := range [][]string{
			{"-t", srv.TALDir(), "--rrdp-root-cert", srv.CAFile(), "-q"},
			append(slices.Clone(base), "--max-object-size", "300"),
		} {
			status, out, errs := rovd(t, append(append([]string{"-r", t.TempDir()}, args...), "vrps", "--complete")...)
			if status != cli.ExitIncomplete || len(csvLines(t, out)) != 0 {
				t.Errorf("%v: status %d, %d VRPs: %s", args, status, len(csvLines(t, out)), errs)
			}
		}
	})

	t.Run("dirty", func(t *testing.T) {
		// Data no run uses any more goes after the run, unless --dirty:
		// here the RRDP repositories, once rsync is the only transport.
		own := append([]string{"-r", t.TempDir()}, base...)
		repos := func() (rrdp, rsync int) {
			out := t.TempDir()
			if status, _, errs := rovd(t, append(own, "dump", "-o", out)...); status != cli.ExitOK {
				t.Fatalf("dump: %d %s", status, errs)
			}
			data, _ := os.ReadFile(filepath.Join(out, "repositories.json"))
			var idx dump.Index
			if err := json.Unmarshal(data, &idx); err != nil {
				t.Fatal(err)
			}
			return len(idx.RRDP), len(idx.Rsync)
		}
		for _, step := range []struct {
			args        []string
			rrdp, rsync int
		}{
			{[]string{"update"}, 2, 0},
			{[]string{"--disable-rrdp", "--dirty", "update"}, 2, 2},
			{[]string{"--disable-rrdp", "update"}, 0, 2},
		} {
			if status, _, errs := rovd(t, append(own, step.args...)...); status != cli.ExitOK {
				t.Fatalf("%v: %d %s", step.args, status, errs)
			}
			if rrdp, rsync := repos(); rrdp != step.rrdp || rsync != step.rsync {
				t.Errorf("after %v: %d RRDP and %d rsync repositories, want %d and %d", step.args, rrdp, rsync, step.rrdp, step.rsync)
			}
		}
	})

	// Everything above was fresh: --complete succeeds. With the servers
	// gone, update serves the stored data and --complete says so.
	if status, _, errs := rovd(t, with("update", "--complete")...); status != cli.ExitOK {
		t.Fatalf("update --complete: status %d: %s", status, errs)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	status, _, errs = rovd(t, with("--rrdp-timeout", "2", "--rsync-timeout", "5", "update", "--complete")...)
	if status != cli.ExitIncomplete {
		t.Errorf("update --complete without servers: status %d, want %d: %s", status, cli.ExitIncomplete, errs)
	}
	status, out, _ = rovd(t, with("--rrdp-timeout", "2", "--rsync-timeout", "5", "vrps")...)
	if got := csvLines(t, out); status != cli.ExitOK || !slices.Equal(got, want) {
		t.Errorf("vrps without servers: status %d, %d VRPs, want the %d stored", status, len(got), len(want))
	}
}

// TestCommandErrors checks that bad options give one clear error and
// exit status 1.
func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stale", "sometimes", "vrps", "-n"}, "--stale"},
		{[]string{"--validation-threads", "0", "vrps", "-n"}, "--validation-threads"},
		{[]string{"--validation-time", "yesterday", "vrps", "-n"}, "validation-time"},
		{[]string{"-r", "/nonexistent/rovd", "vrps", "-n"}, "no local repository"},
		{[]string{"vrps", "-a", "ASx"}, "--select-asn"},
		{[]string{"vrps", "-p", "10.0.0.0/33"}, "--select-prefix"},
		{[]string{"vrps", "extra"}, "unexpected argument"},
		{[]string{"update", "--complete=maybe"}, "complete"},
	} {
		status, _, errs := rovd(t, tc.args...)
		if status != cli.ExitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: status %d, stderr %q, want 1 and %q", tc.args, status, errs, tc.want)
		}
	}
}

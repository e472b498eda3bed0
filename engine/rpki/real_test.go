package rpki_test

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// realCorpus is the shared corpus of production objects; its README
// records what rpki-client 8.2 made of each file.
const realCorpus = "../../../shared/testdata/real"

// corpusRow is one file's line in the README.
type corpusRow struct {
	path, result, facts string
}

func readCorpusREADME(t *testing.T) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(realCorpus, "README.md"))
	if err != nil {
		t.Fatalf("the shared corpus must sit beside the repository: %v", err)
	}
	defer f.Close()
	section := regexp.MustCompile(`^### Files: (\S+)`)
	row := regexp.MustCompile(`^\| (.+?) \| (\d+) \| (.*?) \| (.*?) \| (.*?) \|$`)
	var rows []corpusRow
	dir := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := section.FindStringSubmatch(line); m != nil {
			dir = m[1]
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && dir != "" {
			rows = append(rows, corpusRow{path: dir + "/" + m[1], result: m[3], facts: m[4]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 480 {
		t.Fatalf("read only %d rows from the corpus README", len(rows))
	}
	return rows
}

// deviations are the files where rovd deliberately disagrees with
// rpki-client 8.2, following the current RFC or draft instead.
var deviations = map[string]struct{ want, why string }{
	// draft-ietf-sidrops-aspa-profile: 8.2 reads only the older profile
	// with address-family limits; rovd implements the current one.
	"rpki-commons/interop/aspa/GOOD-profile-15-APNIC-rpki-aspa-demo-AS1000.asa":          {"OK (aspa)", "current ASPA profile"},
	"rpki-commons/interop/aspa/GOOD-profile-15-draft-ietf-sidrops-profile-15-sample.asa": {"OK (aspa)", "current ASPA profile"},
	"rpki-rrdp-tools-py/GOOD-profile-15-draft-ietf-sidrops-profile-15-sample.asa":        {"OK (aspa)", "current ASPA profile"},
	"rpki-commons/interop/aspa/BAD-profile-13-AS211321-profile-13.asa":                   {"FAIL", "older ASPA profile rejected"},
	"rpki-commons/interop/aspa/BAD-profile-13-no-signingtime-aspa-rpkimancer.asa":        {"FAIL", "older ASPA profile rejected"},
	"rpki-prover/aspa.1.asa":         {"FAIL", "older ASPA profile rejected"},
	"rpki-rs/repository/aspa-bm.asa": {"FAIL", "older ASPA profile rejected"},
	// The content is in the current profile, but the EE certificate has
	// no CRL distribution point, which RFC 6487 §4.8.6 requires.
	"rpki-commons/interop/aspa/GOOD-profile-15-rpki-commons-propertytest-sample.asa": {"FAIL", "EE certificate without CRLDP"},
	"rpki-prover/AS204325.asa": {"OK (aspa)", "current ASPA profile"},
	// RFC 6487 §4.8.8.1 allows further caRepository URIs beside the rsync
	// one (here https); 8.2 rejected them, current rpki-client ignores
	// them, as rovd does.
	"rpki.net/historic-ta-certs/apnic.cer": {"OK (ca_cert)", "extra https caRepository ignored"},
	// Signed prefix lists (draft-ietf-sidrops-rpki-prefixlist) are newer
	// than 8.2, which printed nothing.
	"rpki-prover/9X0AhXWTJDl8lJhfOwvnac-42CA.spl": {"OK (spl)", "signed prefix lists decoded"},
	// RFC 5280 §4.2: an unrecognised critical extension makes the
	// certificate unusable; 8.2 did not check.
	"rpki-prover/extra_extensions.cer": {"FAIL", "unknown critical extension"},
	// RFC 9589 §4 made signing-time mandatory after 8.2.
	"rpki-commons/interop/openbsd-regress/c6938fc00af6496d9d4e6e2d876e4b4811887b60f4f1bc9cd0b3cdb7c57c6d5e.sig": {"FAIL", "signing-time missing"},
}

// outcome runs the decoder over one file and sums up what happened in the
// README's vocabulary.
func outcome(path string, data []byte) (string, rpki.Object, error) {
	obj, err := rpki.Parse(rpki.TypeFromName(path), data, der.Relaxed)
	switch {
	case errors.Is(err, rpki.ErrNotRPKI):
		return "n/a", nil, err
	case err != nil:
		return "FAIL", nil, err
	case len(obj.Problems()) > 0:
		return "FAIL", obj, rpki.Join(obj.Problems())
	}
	return "OK (" + readmeType(obj) + ")", obj, nil
}

func readmeType(obj rpki.Object) string {
	switch o := obj.(type) {
	case *rpki.Certificate:
		if o.Kind == rpki.CertRouter {
			return "router_key"
		}
		return "ca_cert"
	case *rpki.RSC:
		return "rsc"
	}
	return strings.ToLower(obj.Type().String())
}

// TestRealCorpus decodes every object of the shared corpus and compares
// the result and the key facts with what the README records.
func TestRealCorpus(t *testing.T) {
	rows := readCorpusREADME(t)
	listed := map[string]bool{}
	counts := map[string]int{}
	for _, row := range rows {
		listed[row.path] = true
		t.Run(row.path, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(realCorpus, row.path))
			if err != nil {
				t.Fatal(err)
			}
			got, obj, err := outcome(row.path, data)
			counts[got]++
			want := row.result
			switch {
			case strings.HasPrefix(want, "FAIL"):
				want = "FAIL"
			case strings.HasPrefix(want, "n/a"):
				want = "n/a"
			case strings.HasPrefix(want, "OK (rsc"):
				want = "OK (rsc)"
			}
			if d, ok := deviations[row.path]; ok {
				want = d.want
			}
			// "FAIL: no output" means rpki-client did not know the type;
			// for an unknown content type rovd says "not an RPKI object".
			if strings.Contains(row.result, "no output") && got == "n/a" {
				want = "n/a"
			}
			if got != want {
				t.Fatalf("got %s, README says %s (%v)", got, row.result, err)
			}
			if obj != nil && row.facts != "" && strings.HasPrefix(row.result, "OK") && strings.HasPrefix(got, "OK") {
				checkFacts(t, obj, row.facts)
			}
		})
	}
	t.Logf("README rows: %d; outcomes: %v", len(rows), counts)

	// Files the README does not list (XML, notes, copies of objects in
	// the e2e cache) must not trip the decoder either.
	unlisted := map[string]int{}
	err := filepath.WalkDir(realCorpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(realCorpus, p)
		if listed[rel] || rel == "README.md" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, _, _ := outcome(rel, data)
		unlisted[got]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("files the README does not list: %v", unlisted)
}

var (
	roaFacts  = regexp.MustCompile(`^AS(\d+); (\d+) pfx: (.*)$`)
	mftFacts  = regexp.MustCompile(`^#([0-9A-F]+) entries=(\d+) this=(\S+) next=(\S+)$`)
	crlFacts  = regexp.MustCompile(`^#([0-9A-F]+) this=(\S+) next=(\S+) revoked=(\d+)$`)
	certFacts = regexp.MustCompile(`^(\d+) res: (.*?); (?:BGPsec router key; )?cert (.+) GMT → (.+) GMT$`)
	aspaFacts = regexp.MustCompile(`^customer AS(\d+) providers=([\d,]+)$`)
	talFacts  = regexp.MustCompile(`^name=(\S+) uris=(.*)$`)
	takFacts  = regexp.MustCompile(`^(\d+) TAK keys$`)
)

// checkFacts compares the README's key facts with the decoded object.
func checkFacts(t *testing.T, obj rpki.Object, facts string) {
	t.Helper()
	fail := func(what string, got, want any) {
		t.Errorf("%s: got %v, README says %v", what, got, want)
	}
	day := func(tm time.Time) string { return tm.UTC().Format("2006-01-02") }
	switch o := obj.(type) {
	case *rpki.ROA:
		m := roaFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		if strconv.FormatUint(uint64(o.ASID), 10) != m[1] {
			fail("ASN", o.ASID, m[1])
		}
		if strconv.Itoa(len(o.Prefixes)) != m[2] {
			fail("prefix count", len(o.Prefixes), m[2])
		}
		for i, want := range strings.Split(strings.TrimSuffix(m[3], " …"), ", ") {
			if i < len(o.Prefixes) && o.Prefixes[i].String() != want {
				fail(fmt.Sprintf("prefix %d", i), o.Prefixes[i], want)
			}
		}
	case *rpki.Manifest:
		m := mftFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		if got := numberHex(o.Number); got != m[1] {
			fail("manifest number", got, m[1])
		}
		if strconv.Itoa(len(o.Files)) != m[2] {
			fail("entries", len(o.Files), m[2])
		}
		if day(o.ThisUpdate) != m[3] || day(o.NextUpdate) != m[4] {
			fail("this/next", day(o.ThisUpdate)+" "+day(o.NextUpdate), m[3]+" "+m[4])
		}
	case *rpki.CRL:
		m := crlFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		if got := numberHex(o.Number); got != m[1] {
			fail("CRL number", got, m[1])
		}
		if day(o.ThisUpdate) != m[2] || day(o.NextUpdate) != m[3] {
			fail("this/next", day(o.ThisUpdate)+" "+day(o.NextUpdate), m[2]+" "+m[3])
		}
		if strconv.Itoa(len(o.RevokedSerials())) != m[4] {
			fail("revoked", len(o.RevokedSerials()), m[4])
		}
	case *rpki.Certificate:
		m := certFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		res := resourceStrings(o.Resources)
		if strconv.Itoa(len(res)) != m[1] {
			fail("resource count", len(res), m[1])
		}
		for i, want := range strings.Split(strings.TrimSuffix(m[2], " …"), ", ") {
			if i < len(res) && res[i] != want {
				fail(fmt.Sprintf("resource %d", i), res[i], want)
			}
		}
		const layout = "Jan _2 15:04:05 2006"
		if got := o.NotBefore.UTC().Format(layout); got != m[3] {
			fail("notBefore", got, m[3])
		}
		if got := o.NotAfter.UTC().Format(layout); got != m[4] {
			fail("notAfter", got, m[4])
		}
	case *rpki.ASPA:
		m := aspaFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		var ps []string
		for _, p := range o.Providers {
			ps = append(ps, strconv.FormatUint(uint64(p), 10))
		}
		if got := fmt.Sprintf("%d %s", o.CustomerASID, strings.Join(ps, ",")); got != m[1]+" "+m[2] {
			fail("customer and providers", got, m[1]+" "+m[2])
		}
	case *rpki.GBR:
		for _, want := range strings.Split(facts, "; ") {
			name, value, _ := strings.Cut(want, ":")
			if !slices.Contains(o.Properties, rpki.VCardProperty{Name: name, Value: value}) {
				fail("vCard property", o.Properties, want)
			}
		}
	case *rpki.TAL:
		m := talFacts.FindStringSubmatch(facts)
		if m == nil {
			t.Fatalf("facts %q not understood", facts)
		}
		got := slices.Clone(o.URIs)
		want := strings.Fields(m[2])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			fail("URIs", got, want)
		}
	case *rpki.TAK:
		m := takFacts.FindStringSubmatch(facts)
		n := 1
		if o.Predecessor != nil {
			n++
		}
		if o.Successor != nil {
			n++
		}
		if m == nil || strconv.Itoa(n) != m[1] {
			fail("TAK keys", n, facts)
		}
	}
}

// numberHex prints a serial-like number as rpki-client does: upper-case
// hex of its octets without the sign octet.
func numberHex(n []byte) string {
	if len(n) > 1 && n[0] == 0 {
		n = n[1:]
	}
	return strings.ToUpper(hex.EncodeToString(n))
}

// resourceStrings lists a certificate's resources as rpki-client prints
// them: AS numbers and ranges first, then IPv4, then IPv6.
func resourceStrings(r rpki.Resources) []string {
	var out []string
	for _, a := range r.AS.Ranges {
		if a.Min == a.Max {
			out = append(out, fmt.Sprintf("AS%d", a.Min))
		} else {
			out = append(out, fmt.Sprintf("AS%d-%d", a.Min, a.Max))
		}
	}
	for _, set := range []rpki.IPSet{r.IPv4, r.IPv6} {
		for _, rng := range set.Ranges {
			out = append(out, rng.String())
		}
	}
	return out
}

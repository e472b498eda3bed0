package output_test

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rovd/rovd/appliance/output"
	"github.com/rovd/rovd/engine/payload"
)

// The round-trip tests read each machine-readable format back, rebuild
// the payload it describes and compare that with the set it was written
// from. They run on the sample set and on a larger generated one.

// prefixes lets cmp compare netip values, which have unexported fields.
var prefixes = cmpopts.EquateComparable(netip.Prefix{})

func roundTripSets(t *testing.T) map[string]*payload.Set {
	return map[string]*payload.Set{"sample": sampleSet(t), "generated": genSet(3000)}
}

func render(t testing.TB, set *payload.Set, opt output.Options) []byte {
	t.Helper()
	if opt.Time.IsZero() {
		opt.Time = genTime
	}
	var buf bytes.Buffer
	if err := output.Write(&buf, set, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantTA is the trust anchor the one-source formats must name: the
// alphabetically least of the item's trust anchors, "N/A" when it comes
// from local exceptions only.
func wantTA(srcs []*payload.Source) string {
	ta := ""
	for _, s := range srcs {
		if s.TA != "" && (ta == "" || s.TA < ta) {
			ta = s.TA
		}
	}
	if ta == "" {
		return "N/A"
	}
	return ta
}

// wantPrimary is the source csvext shows: of those with wantTA's trust
// anchor the least URI, or the exception.
func wantPrimary(srcs []*payload.Source) *payload.Source {
	ta := wantTA(srcs)
	var best *payload.Source
	for _, s := range srcs {
		if (s.TA == ta || ta == "N/A") && (best == nil || s.URI < best.URI) {
			best = s
		}
	}
	return best
}

func mustASN(t *testing.T, s string) uint32 {
	t.Helper()
	if !strings.HasPrefix(s, "AS") {
		t.Fatalf("AS number %q without AS", s)
	}
	n, err := output.ParseASN(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type jsonValidity struct {
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

type jsonSource struct {
	Type          string        `json:"type"`
	URI           *string       `json:"uri"`
	Path          *string       `json:"path"`
	TAL           string        `json:"tal"`
	Validity      *jsonValidity `json:"validity"`
	ChainValidity *jsonValidity `json:"chainValidity"`
	Stale         time.Time     `json:"stale"`
}

type jsonDoc struct {
	Metadata struct {
		Generated     int64     `json:"generated"`
		GeneratedTime time.Time `json:"generatedTime"`
	} `json:"metadata"`
	ROAs []struct {
		ASN       string       `json:"asn"`
		Prefix    string       `json:"prefix"`
		MaxLength uint8        `json:"maxLength"`
		TA        *string      `json:"ta"`
		Source    []jsonSource `json:"source"`
	} `json:"roas"`
	RouterKeys []struct {
		ASN             string       `json:"asn"`
		SKI             string       `json:"SKI"`
		RouterPublicKey string       `json:"routerPublicKey"`
		TA              *string      `json:"ta"`
		Source          []jsonSource `json:"source"`
	} `json:"routerKeys"`
	ASPAs []struct {
		Customer  string       `json:"customer"`
		Providers []string     `json:"providers"`
		TA        *string      `json:"ta"`
		Source    []jsonSource `json:"source"`
	} `json:"aspas"`
}

// decodeJSON decodes json or jsonext strictly: a member the structs do
// not know is an error.
func decodeJSON(t *testing.T, data []byte) *jsonDoc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc jsonDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v in:\n%s", err, data)
	}
	if dec.More() {
		t.Fatal("data after the JSON object")
	}
	return &doc
}

// source turns a jsonext source back into a payload.Source, checking
// the members its type must and must not have.
func (s jsonSource) source(t *testing.T, kind string) *payload.Source {
	t.Helper()
	if s.Type == "exception" {
		if s.Path == nil || s.URI != nil || s.Validity != nil || s.TAL != "" {
			t.Fatalf("exception source %+v", s)
		}
		return &payload.Source{URI: *s.Path}
	}
	if s.Type != kind || s.URI == nil || s.Path != nil || s.Validity == nil || s.ChainValidity == nil || s.Stale.IsZero() {
		t.Fatalf("%s source %+v", kind, s)
	}
	if !s.Stale.Equal(s.ChainValidity.NotAfter) {
		t.Errorf("stale %v, chain validity ends %v", s.Stale, s.ChainValidity.NotAfter)
	}
	return &payload.Source{
		TA: s.TAL, URI: *s.URI,
		Validity: payload.Validity{NotBefore: s.Validity.NotBefore, NotAfter: s.Validity.NotAfter},
		Chain:    payload.Validity{NotBefore: s.ChainValidity.NotBefore, NotAfter: s.ChainValidity.NotAfter},
	}
}

// sourceValues dereferences srcs and sorts them, to compare two items'
// sources as sets.
func sourceValues(srcs []*payload.Source) []payload.Source {
	out := make([]payload.Source, len(srcs))
	for i, s := range srcs {
		out[i] = *s
	}
	slices.SortFunc(out, func(a, b payload.Source) int {
		return strings.Compare(a.TA+" "+a.URI, b.TA+" "+b.URI)
	})
	return out
}

// fromJSON rebuilds the payload set a json or jsonext document
// describes. For json, whose items name only a trust anchor, each item
// gets one source with that TA (none for "N/A").
func fromJSON(t *testing.T, doc *jsonDoc, ext bool) *payload.Set {
	t.Helper()
	srcs := func(ta *string, list []jsonSource, kind string) []*payload.Source {
		if ext {
			if ta != nil || len(list) == 0 {
				t.Fatalf("jsonext item with ta %v and %d sources", ta, len(list))
			}
			out := make([]*payload.Source, len(list))
			for i, s := range list {
				out[i] = s.source(t, kind)
			}
			return out
		}
		if ta == nil || list != nil {
			t.Fatalf("json item with ta %v and sources %v", ta, list)
		}
		if *ta == "N/A" {
			return []*payload.Source{{}}
		}
		return []*payload.Source{{TA: *ta}}
	}
	var b payload.Builder
	for _, r := range doc.ROAs {
		v := payload.VRP{ASN: mustASN(t, r.ASN), Prefix: netip.MustParsePrefix(r.Prefix), MaxLength: r.MaxLength}
		for _, s := range srcs(r.TA, r.Source, "roa") {
			b.AddVRP(v, s)
		}
	}
	for _, k := range doc.RouterKeys {
		key := payload.RouterKey{ASN: mustASN(t, k.ASN)}
		ski, err := hex.DecodeString(k.SKI)
		if err != nil || len(ski) != 20 || k.SKI != strings.ToUpper(k.SKI) {
			t.Fatalf("SKI %q", k.SKI)
		}
		copy(key.SKI[:], ski)
		if key.SPKI, err = base64.RawURLEncoding.Strict().DecodeString(k.RouterPublicKey); err != nil {
			t.Fatalf("routerPublicKey %q: %v", k.RouterPublicKey, err)
		}
		for _, s := range srcs(k.TA, k.Source, "cer") {
			b.AddRouterKey(key, s)
		}
	}
	for _, a := range doc.ASPAs {
		aspa := payload.ASPA{Customer: mustASN(t, a.Customer)}
		for _, p := range a.Providers {
			aspa.Providers = append(aspa.Providers, mustASN(t, p))
		}
		for _, s := range srcs(a.TA, a.Source, "aspa") {
			b.AddASPA(aspa, s)
		}
	}
	return b.Build()
}

// taView is what json shows of set's sources: the trust anchor
// of each item.
func taView(srcs []*payload.Source) []payload.Source {
	if ta := wantTA(srcs); ta != "N/A" {
		return []payload.Source{{TA: ta}}
	}
	return []payload.Source{{}}
}

// compareSets compares the items of two sets and, through view, their
// sources.
func compareSets(t *testing.T, got, want *payload.Set, keys, aspas bool, view func([]*payload.Source) []payload.Source) {
	t.Helper()
	if d := cmp.Diff(want.VRPs(), got.VRPs(), prefixes); d != "" {
		t.Errorf("VRPs (-want +got):\n%s", d)
	} else {
		for i := range want.VRPs() {
			if d := cmp.Diff(view(want.VRPSources(i)), sourceValues(got.VRPSources(i))); d != "" {
				t.Errorf("sources of %v (-want +got):\n%s", want.VRPs()[i], d)
			}
		}
	}
	if !keys {
		if len(got.RouterKeys()) != 0 {
			t.Errorf("%d router keys without enable-bgpsec", len(got.RouterKeys()))
		}
	} else if d := cmp.Diff(want.RouterKeys(), got.RouterKeys()); d != "" {
		t.Errorf("router keys (-want +got):\n%s", d)
	} else {
		for i := range want.RouterKeys() {
			if d := cmp.Diff(view(want.RouterKeySources(i)), sourceValues(got.RouterKeySources(i))); d != "" {
				t.Errorf("sources of router key %d (-want +got):\n%s", i, d)
			}
		}
	}
	if !aspas {
		if len(got.ASPAs()) != 0 {
			t.Errorf("%d ASPAs without enable-aspa", len(got.ASPAs()))
		}
	} else if d := cmp.Diff(want.ASPAs(), got.ASPAs()); d != "" {
		t.Errorf("ASPAs (-want +got):\n%s", d)
	} else {
		for i := range want.ASPAs() {
			if d := cmp.Diff(view(want.ASPASources(i)), sourceValues(got.ASPASources(i))); d != "" {
				t.Errorf("sources of ASPA %d (-want +got):\n%s", i, d)
			}
		}
	}
}

// TestJSONRoundTrip decodes json and jsonext into structs, strictly,
// and compares what they describe with the set they were made from.
func TestJSONRoundTrip(t *testing.T) {
	for name, set := range roundTripSets(t) {
		for _, ext := range []bool{false, true} {
			for _, extras := range []bool{false, true} {
				format := map[bool]string{false: "json", true: "jsonext"}[ext]
				t.Run(name+"/"+format+"/aspa-bgpsec="+strconv.FormatBool(extras), func(t *testing.T) {
					data := render(t, set, output.Options{Format: format, ASPA: extras, BGPsec: extras})
					doc := decodeJSON(t, data)
					if doc.Metadata.Generated != genTime.Unix() || !doc.Metadata.GeneratedTime.Equal(genTime) {
						t.Errorf("metadata %+v, want %v", doc.Metadata, genTime)
					}
					if extras != (doc.RouterKeys != nil) || extras != (doc.ASPAs != nil) {
						t.Errorf("routerKeys %v, aspas %v present, want %v", doc.RouterKeys != nil, doc.ASPAs != nil, extras)
					}
					view := taView
					if ext {
						view = sourceValues
					}
					compareSets(t, fromJSON(t, doc, ext), set, extras, extras, view)
				})
			}
		}
	}
}

// TestSLURMRoundTrip reads the slurm output with rovd's own exceptions
// parser: applied to an empty run, it gives back the VRPs and, with
// enable-bgpsec, the router keys; each comment names the trust anchor.
func TestSLURMRoundTrip(t *testing.T) {
	for name, set := range roundTripSets(t) {
		for _, bgpsec := range []bool{false, true} {
			t.Run(name+"/bgpsec="+strconv.FormatBool(bgpsec), func(t *testing.T) {
				data := render(t, set, output.Options{Format: "slurm", BGPsec: bgpsec})
				s, err := payload.ParseSLURM(data)
				if err != nil {
					t.Fatal(err)
				}
				if len(s.PrefixFilters)+len(s.BGPsecFilters) != 0 {
					t.Errorf("filters in the output: %+v %+v", s.PrefixFilters, s.BGPsecFilters)
				}
				for i, a := range s.PrefixAssertions {
					if want := wantTA(set.VRPSources(i)); a.Comment != want {
						t.Errorf("prefixAssertions[%d] comment %q, want %q", i, a.Comment, want)
					}
				}
				for i, a := range s.BGPsecAssertions {
					if want := wantTA(set.RouterKeySources(i)); a.Comment != want {
						t.Errorf("bgpsecAssertions[%d] comment %q, want %q", i, a.Comment, want)
					}
				}
				var b payload.Builder
				b.ApplySLURM(s, func(string) *payload.Source { return &payload.Source{} })
				got := b.Build()
				if d := cmp.Diff(set.VRPs(), got.VRPs(), prefixes); d != "" {
					t.Errorf("VRPs (-want +got):\n%s", d)
				}
				wantKeys := set.RouterKeys()
				if !bgpsec {
					wantKeys = nil
				}
				if d := cmp.Diff(wantKeys, got.RouterKeys()); d != "" {
					t.Errorf("router keys (-want +got):\n%s", d)
				}
			})
		}
	}
}

// TestCSVRoundTrip reads csv, csvcompat and csvext with a CSV reader
// and checks every field of every line against the set.
func TestCSVRoundTrip(t *testing.T) {
	headers := map[string][]string{
		"csv":       {"ASN", "IP Prefix", "Max Length", "Trust Anchor"},
		"csvcompat": {"ASN", "IP Prefix", "Max Length", "Trust Anchor"},
		"csvext":    {"URI", "ASN", "IP Prefix", "Max Length", "Not Before", "Not After"},
	}
	for name, set := range roundTripSets(t) {
		for format, header := range headers {
			t.Run(name+"/"+format, func(t *testing.T) {
				data := render(t, set, output.Options{Format: format})
				if format == "csvcompat" && !bytes.HasPrefix(data, []byte(`"ASN","IP Prefix"`)) {
					t.Errorf("csvcompat header not quoted: %.40q", data)
				}
				records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(header, records[0]); d != "" {
					t.Errorf("header (-want +got):\n%s", d)
				}
				records = records[1:]
				if len(records) != len(set.VRPs()) {
					t.Fatalf("%d lines, want %d", len(records), len(set.VRPs()))
				}
				for i, v := range set.VRPs() {
					asn := "AS" + strconv.FormatUint(uint64(v.ASN), 10)
					if format == "csvcompat" {
						asn = asn[2:]
					}
					want := []string{asn, v.Prefix.String(), strconv.Itoa(int(v.MaxLength)), wantTA(set.VRPSources(i))}
					if format == "csvext" {
						src := wantPrimary(set.VRPSources(i))
						want = []string{src.URI, asn, v.Prefix.String(), strconv.Itoa(int(v.MaxLength)),
							src.Validity.NotBefore.Format(time.DateTime), src.Validity.NotAfter.Format(time.DateTime)}
						if src.TA == "" {
							want[0], want[4], want[5] = "N/A", "N/A", "N/A"
						}
					}
					if d := cmp.Diff(want, records[i]); d != "" {
						t.Errorf("line %d (-want +got):\n%s", i+2, d)
					}
				}
			})
		}
	}
}

// FuzzAppendJSONString checks that any string comes out as one valid
// JSON string that decodes to it (to U+FFFD for bytes that are not
// UTF-8, as encoding/json decodes them).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "ripe", `a"b\c`, "tab\there\n", "\x00\x1f\x7f", "r\u00e9seau", "\xff\xfe", "rsync://h/m/\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := output.AppendJSONString([]byte("x"), s)
		if b[0] != 'x' {
			t.Fatal("prefix overwritten")
		}
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("%q gave invalid JSON %q: %v", s, b[1:], err)
		}
		if !sameWithReplacement(s, got) {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}

// sameWithReplacement reports whether got is s with each byte that is
// not part of valid UTF-8 replaced by U+FFFD.
func sameWithReplacement(s, got string) bool {
	var want strings.Builder
	for _, r := range s {
		want.WriteRune(r) // ranging over a string yields U+FFFD per bad byte
	}
	return want.String() == got
}

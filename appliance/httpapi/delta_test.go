package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/engine/payload"
)

// deltaDoc is a /json-delta answer as a client reads it.
type deltaDoc struct {
	Reset         bool        `json:"reset"`
	Session       string      `json:"session"`
	Serial        uint32      `json:"serial"`
	FromSerial    *uint32     `json:"fromSerial"`
	Generated     int64       `json:"generated"`
	GeneratedTime string      `json:"generatedTime"`
	Announced     []deltaItem `json:"announced"`
	Withdrawn     []deltaItem `json:"withdrawn"`
}

type deltaItem struct {
	Type          string   `json:"type"`
	ASN           string   `json:"asn"`
	Prefix        string   `json:"prefix"`
	MaxLength     int      `json:"maxLength"`
	KeyIdentifier string   `json:"keyIdentifier"`
	KeyInfo       string   `json:"keyInfo"`
	CustomerASN   string   `json:"customerAsn"`
	ProviderASNs  []string `json:"providerAsns"`
}

func (it deltaItem) String() string {
	switch it.Type {
	case "routeOrigin":
		return fmt.Sprintf("%s %s-%d", it.ASN, it.Prefix, it.MaxLength)
	case "routerKey":
		return fmt.Sprintf("key %s %s", it.ASN, it.KeyIdentifier)
	}
	return fmt.Sprintf("aspa %s %v", it.CustomerASN, it.ProviderASNs)
}

func strs(items []deltaItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.String())
	}
	return out
}

// setOf builds a set of VRPs given as "ASN prefix-maxlen", plus the
// ASPAs and router key of fixtureSet when extras is set.
func setOf(extras bool, vrps ...payload.VRP) *payload.Set {
	var b payload.Builder
	for _, v := range vrps {
		b.AddVRP(v, srcRIPE)
	}
	if extras {
		b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64497}}, srcRIPE2)
	}
	return b.Build()
}

func getDelta(t *testing.T, s *httpapi.Service, query string) (deltaDoc, []byte) {
	t.Helper()
	code, body := get(t, s, "/json-delta"+query)
	if code != 200 {
		t.Fatalf("/json-delta%s: %d %s", query, code, body)
	}
	var d deltaDoc
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("/json-delta%s: %v\n%s", query, err, body)
	}
	return d, body
}

// TestJSONDeltaGolden pins the layout of a reset and a delta with every
// kind of item.
func TestJSONDeltaGolden(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	first := fixture()
	s.Publish(first)
	_, reset := getDelta(t, s, "")
	golden(t, "json-delta-reset.golden", reset)

	var b payload.Builder
	b.AddVRP(vrp(64496, "192.0.2.0/24", 24), srcRIPE)
	b.AddVRP(vrp(64499, "192.0.2.0/24", 24), srcRIPE)
	b.AddASPA(payload.ASPA{Customer: 64499, Providers: []uint32{64500}}, srcRIPE2)
	next := *first
	next.Set, next.Serial = b.Build(), first.Serial+1
	s.Publish(&next)
	d, delta := getDelta(t, s, "?session=4660&serial=7")
	if d.Reset || d.FromSerial == nil || *d.FromSerial != 7 || d.Serial != 8 {
		t.Errorf("reset %v, from %v, serial %d; want a delta from 7 to 8", d.Reset, d.FromSerial, d.Serial)
	}
	golden(t, "json-delta.golden", delta)
}

// TestJSONDeltaHistory follows a session through several serials and
// checks which versions get a delta and which a reset.
func TestJSONDeltaHistory(t *testing.T) {
	cfg := fixtureConfig()
	cfg.HistorySize = 3
	s := httpapi.New(cfg)
	pub := func(session uint16, serial uint32, set *payload.Set) {
		snap := fixture()
		snap.Session, snap.Serial, snap.Set = session, serial, set
		s.Publish(snap)
	}
	a, b, c, d := vrp(1, "10.0.0.0/8", 8), vrp(2, "10.0.0.0/8", 8), vrp(3, "10.0.0.0/8", 8), vrp(4, "10.0.0.0/8", 8)
	pub(9, 100, setOf(false, a, b))
	pub(9, 101, setOf(false, a, c))    // -b +c
	pub(9, 102, setOf(false, a, c, d)) // +d
	pub(9, 103, setOf(false, c, d))    // -a
	pub(9, 104, setOf(false, a, c, d)) // +a

	tests := []struct {
		query      string
		reset      bool
		ann, wdr   []string
		withdrawal bool
	}{
		{query: "", reset: true, ann: []string{"AS1 10.0.0.0/8-8", "AS3 10.0.0.0/8-8", "AS4 10.0.0.0/8-8"}},
		{query: "?session=9&serial=104", ann: []string{}, wdr: []string{}},
		{query: "?session=9&serial=103", ann: []string{"AS1 10.0.0.0/8-8"}, wdr: []string{}},
		// a withdrawn in 103 and announced again in 104: no change.
		{query: "?session=9&serial=102", ann: []string{}, wdr: []string{}},
		{query: "?session=9&serial=101", ann: []string{"AS4 10.0.0.0/8-8"}, wdr: []string{}},
		// 100 is four serials back, history-size 3.
		{query: "?session=9&serial=100", reset: true, ann: []string{"AS1 10.0.0.0/8-8", "AS3 10.0.0.0/8-8", "AS4 10.0.0.0/8-8"}},
		{query: "?session=9&serial=105", reset: true, ann: []string{"AS1 10.0.0.0/8-8", "AS3 10.0.0.0/8-8", "AS4 10.0.0.0/8-8"}},
		{query: "?session=8&serial=104", reset: true, ann: []string{"AS1 10.0.0.0/8-8", "AS3 10.0.0.0/8-8", "AS4 10.0.0.0/8-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got, _ := getDelta(t, s, tc.query)
			if got.Reset != tc.reset || got.Session != "9" || got.Serial != 104 {
				t.Errorf("reset %v session %s serial %d, want %v 9 104", got.Reset, got.Session, got.Serial, tc.reset)
			}
			if !slices.Equal(strs(got.Announced), tc.ann) {
				t.Errorf("announced %v, want %v", strs(got.Announced), tc.ann)
			}
			if tc.reset != (got.Withdrawn == nil) {
				t.Errorf("withdrawn %v in a reset %v", got.Withdrawn, tc.reset)
			}
			if !tc.reset && !slices.Equal(strs(got.Withdrawn), tc.wdr) {
				t.Errorf("withdrawn %v, want %v", strs(got.Withdrawn), tc.wdr)
			}
		})
	}

	// The same serial again (a run without changes) keeps the history; a
	// new session drops it.
	pub(9, 104, setOf(false, a, c, d))
	if got, _ := getDelta(t, s, "?session=9&serial=103"); got.Reset {
		t.Errorf("same serial republished: history lost")
	}
	pub(10, 1, setOf(false, a))
	if got, _ := getDelta(t, s, "?session=9&serial=104"); !got.Reset {
		t.Errorf("new session: delta from the old one")
	}
	if got, _ := getDelta(t, s, "?session=10&serial=1"); got.Reset || len(got.Announced) != 0 {
		t.Errorf("current version: %+v, want an empty delta", got)
	}
	// A gap in the serials starts the history afresh.
	pub(10, 3, setOf(false, b))
	if got, _ := getDelta(t, s, "?session=10&serial=1"); !got.Reset {
		t.Errorf("serial gap: delta across it")
	}
}

// TestJSONDeltaWrap checks a history across the serial wrap (RFC 1982).
func TestJSONDeltaWrap(t *testing.T) {
	s := httpapi.New(fixtureConfig())
	for i, serial := range []uint32{0xfffffffe, 0xffffffff, 0, 1} {
		snap := fixture()
		snap.Session, snap.Serial = 5, serial
		snap.Set = setOf(false, vrp(uint32(i+1), "10.0.0.0/8", 8))
		s.Publish(snap)
	}
	got, _ := getDelta(t, s, "?session=5&serial=4294967294")
	if got.Reset || !slices.Equal(strs(got.Announced), []string{"AS4 10.0.0.0/8-8"}) || !slices.Equal(strs(got.Withdrawn), []string{"AS1 10.0.0.0/8-8"}) {
		t.Errorf("across the wrap: %+v", got)
	}
}

// TestJSONDeltaExtras checks ASPAs and router keys in deltas, and that
// they stay out without enable-aspa and enable-bgpsec.
func TestJSONDeltaExtras(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		cfg := fixtureConfig()
		cfg.EnableASPA, cfg.EnableBGPsec = enabled, enabled
		s := httpapi.New(cfg)
		snap := fixture()
		s.Publish(snap)
		// The next serial drops the router key and changes the ASPA.
		var b payload.Builder
		for i, v := range snap.Set.VRPs() {
			b.AddVRP(v, snap.Set.VRPSources(i)[0])
		}
		b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64497}}, srcRIPE2)
		next := *snap
		next.Serial++
		next.Set = b.Build()
		s.Publish(&next)
		got, _ := getDelta(t, s, "?session=4660&serial=7")
		var wantAnn, wantWdr []string
		if enabled {
			wantAnn = []string{"aspa AS64496 [AS64497]"}
			wantWdr = []string{"key AS64497 A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3"}
		}
		if !slices.Equal(strs(got.Announced), wantAnn) && !(len(wantAnn) == 0 && len(got.Announced) == 0) {
			t.Errorf("enabled %v: announced %v, want %v", enabled, strs(got.Announced), wantAnn)
		}
		if !slices.Equal(strs(got.Withdrawn), wantWdr) && !(len(wantWdr) == 0 && len(got.Withdrawn) == 0) {
			t.Errorf("enabled %v: withdrawn %v, want %v", enabled, strs(got.Withdrawn), wantWdr)
		}
		// Withdrawing the ASPA names the customer only.
		third := next
		third.Serial++
		var c payload.Builder
		for i, v := range snap.Set.VRPs() {
			c.AddVRP(v, snap.Set.VRPSources(i)[0])
		}
		third.Set = c.Build()
		s.Publish(&third)
		got, _ = getDelta(t, s, "?session=4660&serial=8")
		if enabled && (len(got.Withdrawn) != 1 || got.Withdrawn[0].CustomerASN != "AS64496" || len(got.Withdrawn[0].ProviderASNs) != 0) {
			t.Errorf("ASPA withdrawal: %+v", got.Withdrawn)
		}
	}
}

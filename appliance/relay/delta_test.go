package relay_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/httpapi"
	"github.com/rovd/rovd/appliance/relay"
	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/netio"
)

func readDelta(t *testing.T, name string) *relay.Delta {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := relay.ParseDelta(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestParseDelta reads rovd's own /json-delta answers (the httpapi
// golden files): the whole set of serial 7, then the delta to serial 8,
// which applied to it gives serial 8's set.
func TestParseDelta(t *testing.T) {
	reset := readDelta(t, "json-delta-reset.jsondelta")
	if !reset.Reset || reset.Session != "4660" || reset.Serial != 7 || !reset.Generated.Equal(time.Unix(1793534402, 0)) {
		t.Errorf("reset header: %+v", reset)
	}
	c := reset.Changes
	if len(c.AnnouncedVRPs) != 6 || len(c.AnnouncedKeys) != 1 || len(c.AnnouncedASPAs) != 1 || c.WithdrawnVRPs != nil {
		t.Errorf("reset: %d VRPs, %d keys, %d ASPAs announced, %d withdrawn", len(c.AnnouncedVRPs), len(c.AnnouncedKeys), len(c.AnnouncedASPAs), len(c.WithdrawnVRPs))
	}
	seven, err := relay.Apply(emptySet(), &reset.Changes, &payload.Source{})
	if err != nil {
		t.Fatal(err)
	}

	delta := readDelta(t, "json-delta.jsondelta")
	if delta.Reset || delta.Session != "4660" || delta.Serial != 8 || delta.FromSerial != 7 {
		t.Errorf("delta header: %+v", delta)
	}
	eight, err := relay.Apply(seven, &delta.Changes, &payload.Source{TA: "new"})
	if err != nil {
		t.Fatal(err)
	}
	got := itemsOf(eight)
	want := items{
		VRPs:  []string{"AS64496 192.0.2.0/24-24", "AS64499 192.0.2.0/24-24"},
		ASPAs: []payload.ASPA{{Customer: 64499, Providers: []uint32{64500}}},
		TAs:   []string{"", "new"},
	}
	if !cmp.Equal(got, want) {
		t.Errorf("serial 8:\n%s", cmp.Diff(want, got))
	}
}

func emptySet() *payload.Set { return new(payload.Builder).Build() }

func TestParseDeltaErrors(t *testing.T) {
	const head = `"session": "1", "serial": 2, "fromSerial": 1, "generated": 1795435200, `
	vrp := func(asn, prefix string) string {
		return `{"type": "routeOrigin", "asn": "` + asn + `", "prefix": "` + prefix + `", "maxLength": 24}`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"not an object", `[]`, "the document"},
		{"truncated", `{"reset": false, ` + head + `"announced": [`, "truncated"},
		{"no reset", `{` + head + `"announced": [], "withdrawn": []}`, "no reset"},
		{"no session", `{"reset": true, "serial": 1, "announced": []}`, "no session"},
		{"no withdrawn in a delta", `{"reset": false, ` + head + `"announced": []}`, "no withdrawn"},
		{"no fromSerial in a delta", `{"reset": false, "session": "1", "serial": 2, "announced": [], "withdrawn": []}`, "no fromSerial"},
		{"bad session", `{"reset": true, "session": "x", "serial": 1, "announced": []}`, "session"},
		{"serial too large", `{"reset": true, "session": "1", "serial": 4294967296, "announced": []}`, "not a serial number"},
		{"member twice", `{"reset": true, "reset": true}`, `member "reset" twice`},
		{"unknown type", `{"reset": true, "session": "1", "serial": 1, "announced": [{"type": "x"}]}`, `unknown type "x"`},
		{"no type", `{"reset": true, "session": "1", "serial": 1, "announced": [{"asn": "AS1"}]}`, "no type"},
		{"bad prefix", `{"reset": true, "session": "1", "serial": 1, "announced": [` + vrp("AS1", "192.0.2.1/24") + `]}`, "host bits"},
		{"bad key", `{"reset": true, "session": "1", "serial": 1, "announced": [{"type": "routerKey", "asn": "AS1", "keyIdentifier": "AB", "keyInfo": "MBM"}]}`, "keyIdentifier"},
		{"no providers", `{"reset": true, "session": "1", "serial": 1, "announced": [{"type": "aspa", "customerAsn": "AS1"}]}`, "no providerAsns"},
		{"item twice", `{"reset": true, "session": "1", "serial": 1, "announced": [` + vrp("AS1", "192.0.2.0/24") + `,` + vrp("AS1", "192.0.2.0/24") + `]}`, "twice"},
		{"announced and withdrawn", `{"reset": false, ` + head + `"announced": [` + vrp("AS1", "192.0.2.0/24") + `], "withdrawn": [` + vrp("AS1", "192.0.2.0/24") + `]}`, "both announced and withdrawn"},
		{"reset withdraws", `{"reset": true, "session": "1", "serial": 1, "announced": [], "withdrawn": [` + vrp("AS1", "192.0.2.0/24") + `]}`, "a reset withdraws"},
		{"data after", `{"reset": true, "session": "1", "serial": 1, "announced": []} {}`, "data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := relay.ParseDelta(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) || d != nil {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}

// TestApply checks that a delta must fit the set it is applied to, and
// that the change payload.Compute finds between two sets turns the first
// into the second.
func TestApply(t *testing.T) {
	src := &payload.Source{TA: "ripe"}
	set := func(vrps []payload.VRP, aspas ...payload.ASPA) *payload.Set {
		var b payload.Builder
		for _, v := range vrps {
			b.AddVRP(v, src)
		}
		for _, a := range aspas {
			b.AddASPA(a, src)
		}
		b.AddRouterKey(key, src)
		return b.Build()
	}
	aspa := testASPA[0]
	base := set(testVRPs[:2], aspa)
	other := payload.VRP{ASN: 1, Prefix: testVRPs[0].Prefix, MaxLength: 24}
	for _, tc := range []struct {
		name string
		d    payload.Delta
		want string
	}{
		{"withdraw unknown VRP", payload.Delta{WithdrawnVRPs: []payload.VRP{other}}, "withdraws the route origin AS1 192.0.2.0/24-24, which it does not hold"},
		{"withdraw unknown VRP at the end", payload.Delta{WithdrawnVRPs: []payload.VRP{testVRPs[2]}}, "withdraws the route origin AS64498"},
		{"announce held VRP", payload.Delta{AnnouncedVRPs: testVRPs[1:2]}, "announces the route origin AS0 198.51.100.0/24-24, which it holds already"},
		{"announce held key", payload.Delta{AnnouncedKeys: []payload.RouterKey{key}}, "announces the router key AS64496"},
		{"withdraw unknown ASPA", payload.Delta{WithdrawnASPAs: []uint32{7}}, "withdraws the ASPA of AS7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := relay.Apply(base, &tc.d, src); err == nil || !strings.Contains(err.Error(), tc.want) || s != nil {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}

	changed := payload.ASPA{Customer: aspa.Customer, Providers: []uint32{64510}}
	for _, tc := range []struct {
		name     string
		from, to *payload.Set
	}{
		{"from empty", emptySet(), set(testVRPs, aspa)},
		{"to empty", set(testVRPs, aspa), emptySet()},
		{"some VRPs", set(testVRPs[:2]), set(testVRPs[1:])},
		{"ASPA changed", set(testVRPs, aspa), set(testVRPs, changed)},
		{"ASPA gone", set(testVRPs, aspa), set(testVRPs)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := relay.Apply(tc.from, payload.Compute(tc.from, tc.to), src)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := itemsOf(got), itemsOf(tc.to); !cmp.Equal(a, b) {
				t.Errorf("applied:\n%s", cmp.Diff(b, a))
			}
		})
	}
}

// deltaService is rovd's HTTP service on loopback, as the source of a
// feed that follows its /json-delta.
type deltaService struct {
	*httpapi.Service
	url string
}

func newDeltaService(t *testing.T) *deltaService {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := httpapi.New(httpapi.Config{EnableASPA: true, EnableBGPsec: true, HistorySize: 2, Now: func() time.Time { return testNow }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(ctx, l); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return &deltaService{Service: s, url: "http://" + l.Addr().String() + relay.DeltaPath}
}

func (s *deltaService) publish(session uint16, serial uint32, set *payload.Set) {
	s.Publish(&httpapi.Snapshot{Set: set, Session: session, Serial: serial, Started: testNow})
}

// TestFeedFollowsDeltas follows rovd's HTTP service: the whole set
// first, then deltas asked for with session and serial, nothing new as
// not modified, and the whole set again when the service's history does
// not reach back far enough and when it starts a new session.
func TestFeedFollowsDeltas(t *testing.T) {
	svc := newDeltaService(t)
	feed := relay.NewFeed(svc.url, client(t), 2*time.Hour)
	ctx := context.Background()
	src := &payload.Source{TA: "ripe"}
	sets := make([]*payload.Set, 5)
	for i := range sets {
		var b payload.Builder
		for _, v := range testVRPs[:1+i%3] {
			b.AddVRP(v, src)
		}
		if i%2 == 1 {
			b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{64500 + uint32(i)}}, src)
			b.AddRouterKey(key, src)
		}
		sets[i] = b.Build()
	}
	fetch := func(want *payload.Set, reset bool, serial uint32) {
		t.Helper()
		doc, err := feed.Fetch(ctx, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Step == nil || doc.Step.Reset != reset || doc.Step.Serial != serial {
			t.Fatalf("step %+v, want reset %v to serial %d", doc.Step, reset, serial)
		}
		a, b := itemsOf(doc.Set), itemsOf(want)
		b.TAs = make([]string, len(b.TAs)) // json-delta names no trust anchor
		if !cmp.Equal(a, b) {
			t.Fatalf("serial %d:\n%s", serial, cmp.Diff(b, a))
		}
	}

	svc.publish(1, 1, sets[0])
	fetch(sets[0], true, 1)
	if _, err := feed.Fetch(ctx, testNow); !errors.Is(err, netio.ErrNotModified) {
		t.Errorf("no new serial: %v", err)
	}
	svc.publish(1, 2, sets[1])
	fetch(sets[1], false, 2)
	svc.publish(1, 3, sets[2])
	fetch(sets[2], false, 3)
	// Three serials on, beyond the history of two: the whole set.
	svc.publish(1, 4, sets[3])
	svc.publish(1, 5, sets[4])
	svc.publish(1, 6, sets[0])
	fetch(sets[0], true, 6)
	svc.publish(2, 1, sets[1])
	fetch(sets[1], true, 1)
	svc.publish(2, 2, sets[2])
	fetch(sets[2], false, 2)
	if _, err := feed.Fetch(ctx, testNow.Add(3*time.Hour)); err == nil || !strings.Contains(err.Error(), "more than 2h0m0s ago") {
		t.Errorf("old set: %v", err)
	}
}

// TestFeedBadDeltas serves answers that do not fit the set held: each is
// refused, and the next fetch asks for the whole set.
func TestFeedBadDeltas(t *testing.T) {
	srv := newFeedServer(t)
	feed := relay.NewFeed(srv.URL+relay.DeltaPath, client(t), 2*time.Hour)
	ctx := context.Background()
	const header = `"session": "9", "generated": 1795435200, `
	resetDoc := `{"reset": true, ` + header + `"serial": 5, "announced": [
		{"type": "routeOrigin", "asn": "AS64496", "prefix": "192.0.2.0/24", "maxLength": 24}]}`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"withdraw of unknown", `{"reset": false, ` + header + `"serial": 6, "fromSerial": 5, "announced": [], "withdrawn": [
			{"type": "routeOrigin", "asn": "AS64497", "prefix": "192.0.2.0/24", "maxLength": 24}]}`, "delta from serial 5 to 6: withdraws the route origin AS64497"},
		{"malformed", `{"reset": false, ` + header + `"serial": 6, "fromSerial": 5, "announced": [{"type": "routeOrigin"`, "truncated"},
		{"from another serial", `{"reset": false, ` + header + `"serial": 6, "fromSerial": 4, "announced": [], "withdrawn": []}`, "a delta from session 9 serial 4, where one from serial 5"},
		{"too large", `{"reset": true, ` + header + `"serial": 6, "announced": [` + strings.Repeat(" ", 4096) + `]}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay.SetMaxSize(feed, 4096)
			srv.serve([]byte(resetDoc), "")
			if _, err := feed.Fetch(ctx, testNow); err != nil {
				t.Fatal(err)
			}
			srv.serve([]byte(tc.doc), "")
			if doc, err := feed.Fetch(ctx, testNow); err == nil || !strings.Contains(err.Error(), tc.want) || doc != nil {
				t.Fatalf("%v, want %q", err, tc.want)
			}
			if q := srv.lastQuery(); q != "serial=5&session=9" {
				t.Errorf("asked with %q", q)
			}
			srv.serve([]byte(resetDoc), "")
			if _, err := feed.Fetch(ctx, testNow); err != nil {
				t.Fatal(err)
			}
			if q := srv.lastQuery(); q != "" {
				t.Errorf("after a refused answer, asked with %q, want the whole set", q)
			}
		})
	}
}

// FuzzParseDelta reads arbitrary /json-delta answers. An error comes
// without a delta; a delta read has sorted lists without duplicates,
// applies to the set of what it withdraws, and payload.Compute finds the
// same change between that set and the result.
func FuzzParseDelta(f *testing.F) {
	addSeeds(f, "testdata/*.jsondelta")
	f.Add([]byte(`{"reset": false, "session": 1, "serial": 2, "fromSerial": 1, "announced": [], "withdrawn": [{"type": "aspa", "customerAsn": "AS1", "providerAsns": []}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := relay.ParseDelta(bytes.NewReader(data))
		if err != nil {
			if d != nil {
				t.Fatal("delta with an error")
			}
			return
		}
		c := &d.Changes
		if !slices.IsSortedFunc(c.AnnouncedVRPs, payload.VRP.Compare) || !slices.IsSortedFunc(c.WithdrawnVRPs, payload.VRP.Compare) ||
			!slices.IsSorted(c.WithdrawnASPAs) {
			t.Fatal("lists not sorted")
		}
		src := &payload.Source{}
		var b payload.Builder
		for _, v := range c.WithdrawnVRPs {
			b.AddVRP(v, src)
		}
		for _, k := range c.WithdrawnKeys {
			b.AddRouterKey(k, src)
		}
		for _, a := range c.WithdrawnASPAs {
			b.AddASPA(payload.ASPA{Customer: a, Providers: []uint32{a}}, src)
		}
		before := b.Build()
		after, err := relay.Apply(before, c, src)
		if err != nil {
			t.Fatalf("applying to what it withdraws: %v", err)
		}
		back := payload.Compute(before, after)
		if !same(back.AnnouncedVRPs, c.AnnouncedVRPs, payload.VRP.Compare) || !same(back.WithdrawnVRPs, c.WithdrawnVRPs, payload.VRP.Compare) ||
			!same(back.AnnouncedKeys, c.AnnouncedKeys, payload.RouterKey.Compare) || !same(back.WithdrawnKeys, c.WithdrawnKeys, payload.RouterKey.Compare) ||
			len(back.AnnouncedASPAs) != len(c.AnnouncedASPAs) || !slices.Equal(back.WithdrawnASPAs, c.WithdrawnASPAs) {
			t.Fatalf("change read back differently:\n%+v\n%+v", back, c)
		}
	})
}

// same reports whether two lists hold the same items in the same order.
func same[T any](a, b []T, compare func(T, T) int) bool {
	return slices.EqualFunc(a, b, func(x, y T) bool { return compare(x, y) == 0 })
}

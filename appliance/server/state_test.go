package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/engine/payload"
)

var stateNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// richSet has IPv4 and IPv6 VRPs, a VRP from two sources, router keys
// and ASPAs, sources of two trust anchors with and without validity
// times, and one source that expires an hour after stateNow.
func richSet() *payload.Set {
	day := payload.Validity{NotBefore: stateNow.Add(-24 * time.Hour), NotAfter: stateNow.Add(24 * time.Hour)}
	ripe := &payload.Source{TA: "ripe", URI: "rsync://a/b.roa", Validity: day, Chain: day}
	apnic := &payload.Source{TA: "apnic", URI: "rsync://c/d.roa", Validity: day, Chain: payload.Validity{NotBefore: day.NotBefore, NotAfter: stateNow.Add(time.Hour)}}
	local := &payload.Source{TA: "N/A", URI: "/etc/rovd/local.json"}
	var b payload.Builder
	b.AddVRP(payload.VRP{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24}, ripe)
	b.AddVRP(payload.VRP{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24}, apnic)
	b.AddVRP(payload.VRP{ASN: 0, Prefix: netip.MustParsePrefix("0.0.0.0/0"), MaxLength: 32}, apnic)
	b.AddVRP(payload.VRP{ASN: 4294967295, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 128}, ripe)
	b.AddVRP(payload.VRP{ASN: 64511, Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLength: 28}, local)
	b.AddRouterKey(payload.RouterKey{ASN: 64496, SKI: [20]byte{1, 2, 3}, SPKI: []byte{0x30, 0x03, 0x01, 0x02, 0x03}}, ripe)
	b.AddASPA(payload.ASPA{Customer: 64496, Providers: []uint32{1, 2, 4294967295}}, apnic)
	b.AddASPA(payload.ASPA{Customer: 64497}, ripe)
	return b.Build()
}

// describe writes a set's items with their sources' trust anchors and
// times, for comparison.
func describe(s *payload.Set) string {
	var b strings.Builder
	src := func(list []*payload.Source) {
		for _, x := range list {
			fmt.Fprintf(&b, " [%s %d %d %d %d]", x.TA, x.Validity.NotBefore.Unix(), x.Validity.NotAfter.Unix(), x.Chain.NotBefore.Unix(), x.Chain.NotAfter.Unix())
		}
		b.WriteByte('\n')
	}
	for i, v := range s.VRPs() {
		fmt.Fprintf(&b, "%v", v)
		src(s.VRPSources(i))
	}
	for i, k := range s.RouterKeys() {
		fmt.Fprintf(&b, "%v", k)
		src(s.RouterKeySources(i))
	}
	for i, a := range s.ASPAs() {
		fmt.Fprintf(&b, "%v", a)
		src(s.ASPASources(i))
	}
	return b.String()
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "served-set")
	set := richSet()
	at := stateNow.Add(-time.Minute)
	if err := server.WriteState(path, set, at); err != nil {
		t.Fatal(err)
	}
	back, when, err := server.ReadState(path, stateNow)
	if err != nil {
		t.Fatal(err)
	}
	if !when.Equal(at) {
		t.Errorf("time %v, want %v", when, at)
	}
	if got, want := describe(back), describe(set); got != want {
		t.Errorf("read back:\n%s\nwant:\n%s", got, want)
	}
	// Two hours later the apnic source has expired: its ASPA and the
	// AS0 VRP are gone, the VRP it shares with ripe keeps ripe only.
	later, _, err := server.ReadState(path, stateNow.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(later.VRPs()) != 3 || len(later.ASPAs()) != 1 || len(later.RouterKeys()) != 1 || len(later.VRPSources(0)) != 1 || later.VRPSources(0)[0].TA != "ripe" {
		t.Errorf("after the apnic chain expired:\n%s", describe(later))
	}
	// An empty set.
	if err := server.WriteState(path, (&payload.Builder{}).Build(), at); err != nil {
		t.Fatal(err)
	}
	if empty, _, err := server.ReadState(path, stateNow); err != nil || len(empty.VRPs()) != 0 {
		t.Errorf("empty set: %v", err)
	}
}

func TestStateErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := server.WriteState(good, richSet(), stateNow); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.ReadState(filepath.Join(dir, "missing"), stateNow); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	flipped := bytes.Clone(data)
	flipped[40] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)-1], "checksum mismatch"},
		{"tiny", data[:5], "truncated"},
		{"damaged", flipped, "checksum mismatch"},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, tc.data, 0o644)
		if _, _, err := server.ReadState(path, stateNow); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Content with a valid checksum that is wrong in itself.
	body := server.EncodeState(richSet(), stateNow)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"magic", append([]byte("rovd-sex"), body[8:]...), "not a rovd state file"},
		{"version", append(append([]byte("rovd-set"), 0, 0, 0, 2), body[12:]...), "version 2"},
		{"cut", body[:len(body)-3], "exceeds the file"},
		{"cut in a field", body[:14], "truncated"},
		{"extra", append(bytes.Clone(body), 0), "data after the set"},
		{"huge count", append(bytes.Clone(body[:20]), 0xff, 0xff, 0xff, 0xff), "exceeds the file"},
	} {
		if _, _, err := server.DecodeState(tc.data, stateNow); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEarliestExpiry(t *testing.T) {
	set := richSet()
	if got, want := server.EarliestExpiry(set, stateNow), stateNow.Add(time.Hour); !got.Equal(want) {
		t.Errorf("earliest expiry %v, want %v", got, want)
	}
	// Times already past do not count.
	if got, want := server.EarliestExpiry(set, stateNow.Add(2*time.Hour)), stateNow.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("later: %v, want %v", got, want)
	}
	if got := server.EarliestExpiry((&payload.Builder{}).Build(), stateNow); !got.IsZero() {
		t.Errorf("empty set: %v", got)
	}
}

// FuzzDecodeState reads arbitrary state file content (the checksum
// aside). What reads without error encodes to content that reads back to
// the same set.
func FuzzDecodeState(f *testing.F) {
	f.Add(server.EncodeState(richSet(), stateNow))
	f.Add(server.EncodeState((&payload.Builder{}).Build(), stateNow))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, at, err := server.DecodeState(data, stateNow)
		if err != nil {
			if set != nil {
				t.Fatal("set with an error")
			}
			return
		}
		back, at2, err := server.DecodeState(server.EncodeState(set, at), stateNow)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if !at2.Equal(at) || describe(back) != describe(set) {
			t.Fatalf("read back differently:\n%s\n%s", describe(set), describe(back))
		}
	})
}

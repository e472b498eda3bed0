package engine

import (
	"bytes"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/engine/rpki"
	"github.com/rovd/rovd/store"
)

func sampleEntry() *cacheEntry {
	v := payload.Validity{NotBefore: time.Unix(1700000000, 0).UTC(), NotAfter: time.Unix(1800000000, 0).UTC()}
	return &cacheEntry{
		from: 1700000100, until: 1700086400,
		fingerprint: [32]byte{1, 2, 3}, manifest: [32]byte{4, 5, 6}, signer: [32]byte{10},
		chain:   v,
		files:   []cachedFile{{name: "a.roa", hash: [32]byte{7}, verified: true}, {name: "b.cer", hash: [32]byte{8}}},
		stamp:   store.Stamp{Gen: 3, Seq: 7},
		sources: []cachedSource{{name: "a.roa", validity: v}},
		vrps: []cachedVRP{
			{vrp: payload.VRP{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24}},
			{vrp: payload.VRP{ASN: 64497, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 48}},
		},
		aspas: []cachedASPA{{aspa: payload.ASPA{Customer: 64496, Providers: []uint32{1, 2}}}},
		keys:  []cachedKey{{key: payload.RouterKey{ASN: 64496, SKI: [20]byte{9}, SPKI: []byte{1, 2, 3}}}},
		children: []cachedChild{{name: "b.cer", notify: "https://h/n.xml", caRepository: "rsync://h/m/b/", manifest: "rsync://h/m/b/b.mft",
			notBefore: 1700000000, notAfter: 1800000000, resources: rpki.Resources{
				IPv4: rpki.IPSet{Ranges: []rpki.IPRange{{Min: netip.MustParseAddr("192.0.2.0"), Max: netip.MustParseAddr("192.0.2.255")}}},
				IPv6: rpki.IPSet{Inherit: true},
				AS:   rpki.ASSet{Ranges: []rpki.ASRange{{Min: 64496, Max: 64511}}},
			}, hash: [32]byte{8}}},
		findings: []Finding{{Level: slog.LevelWarn, URI: "rsync://h/m/x.roa", Stage: "verify", Ref: "RFC 6488 §3", Msg: "bad"}},
		counts:   []cachedCount{{kind: "roa", valid: true, n: 1}, {kind: "roa", valid: false, n: 2}},
		stale:    1,
	}
}

func TestCacheEntryRoundTrip(t *testing.T) {
	e := sampleEntry()
	got, err := decodeEntry(encodeEntry(e))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}
	sum, detail := encodeEntry(e)
	for i := range sum {
		if _, err := decodeEntry(sum[:i], detail); err == nil {
			t.Errorf("a summary cut at %d of %d bytes decodes", i, len(sum))
		}
	}
	for i := range detail {
		if _, err := decodeEntry(sum, detail[:i]); err == nil {
			t.Errorf("a detail cut at %d of %d bytes decodes", i, len(detail))
		}
	}
	if _, err := decodeEntry(append(bytes.Clone(sum), 0), detail); err == nil {
		t.Error("trailing bytes in the summary decode")
	}
	if _, err := decodeEntry(sum, append(bytes.Clone(detail), 0)); err == nil {
		t.Error("trailing bytes in the detail decode")
	}
}

// FuzzCacheEntry feeds damaged entries to the decoder: an entry comes
// from a file on disk, and a bad one must be a miss, never a crash.
func FuzzCacheEntry(f *testing.F) {
	sum, detail := encodeEntry(sampleEntry())
	f.Add(sum, detail)
	f.Add([]byte{cacheVersion}, []byte{cacheVersion})
	f.Fuzz(func(t *testing.T, sum, detail []byte) {
		e, err := decodeEntry(sum, detail)
		if err != nil {
			return
		}
		again, err := decodeEntry(encodeEntry(e))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("decoded entry does not survive a round trip: %v", err)
		}
	})
}

// entryDecoder builds a whole cacheEntry, for tests: runs replay entries
// straight into their results.
type entryDecoder struct{ e cacheEntry }

func (x *entryDecoder) header(h *entryHeader) (holds, checkFiles bool) {
	x.e.from, x.e.until, x.e.fingerprint, x.e.manifest, x.e.signer, x.e.stamp, x.e.chain = h.from, h.until, h.fingerprint, h.manifest, h.signer, h.stamp, h.chain
	return true, true
}
func (x *entryDecoder) payload() bool { return true }
func (x *entryDecoder) vrpCount(int)  {}
func (x *entryDecoder) file(name []byte, hash [32]byte, verified bool) bool {
	x.e.files = append(x.e.files, cachedFile{name: string(name), hash: hash, verified: verified})
	return true
}
func (x *entryDecoder) sources(int) {}
func (x *entryDecoder) vrps(int)    {}
func (x *entryDecoder) source(name []byte, validity payload.Validity) {
	x.e.sources = append(x.e.sources, cachedSource{name: string(name), validity: validity})
}
func (x *entryDecoder) vrp(v payload.VRP, src uint32) { x.e.vrps = append(x.e.vrps, cachedVRP{v, src}) }
func (x *entryDecoder) aspa(a payload.ASPA, src uint32) {
	x.e.aspas = append(x.e.aspas, cachedASPA{a, src})
}
func (x *entryDecoder) key(k payload.RouterKey, src uint32) {
	x.e.keys = append(x.e.keys, cachedKey{k, src})
}
func (x *entryDecoder) child(c cachedChild) { x.e.children = append(x.e.children, c) }
func (x *entryDecoder) finding(f Finding)   { x.e.findings = append(x.e.findings, f) }
func (x *entryDecoder) count(c cachedCount) { x.e.counts = append(x.e.counts, c) }
func (x *entryDecoder) stale(n int)         { x.e.stale = n }

// decodeEntry decodes a whole entry.
func decodeEntry(sum, detail []byte) (*cacheEntry, error) {
	var x entryDecoder
	if err := readEntry(sum, func() []byte { return detail }, &x); err != nil {
		return nil, err
	}
	return &x.e, nil
}

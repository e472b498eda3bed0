package rtrfast

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/rovd/rovd/engine/payload"
)

// fuzzSets makes three payload sets from data, over a small universe of
// prefixes, ASes, keys and provider lists so that the sets overlap.
func fuzzSets(data []byte) [3]*payload.Set {
	var b [3]payload.Builder
	prefixes := []string{"10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "0.0.0.0/0", "192.0.2.0/24", "2001:db8::/32", "2001:db8::/48", "::/0"}
	for len(data) >= 4 {
		op, x, y, z := data[0], data[1], data[2], data[3]
		data = data[4:]
		sets := op & 7 // which of the three sets get the item
		var add func(*payload.Builder)
		switch op >> 3 % 3 {
		case 0:
			p := netip.MustParsePrefix(prefixes[int(x)%len(prefixes)])
			maxLen := uint8(p.Bits()) + y%4
			if y&0x80 != 0 {
				maxLen = uint8(p.Bits()) - 1 // not sendable when the prefix is longer than 0
			}
			v := payload.VRP{ASN: uint32(z % 4), Prefix: p, MaxLength: maxLen}
			add = func(b *payload.Builder) { b.AddVRP(v, nil) }
		case 1:
			k := payload.RouterKey{ASN: uint32(x % 3), SPKI: []byte{0x30, y % 3}}
			k.SKI[0] = z % 3
			if y%5 == 0 {
				k.SPKI = nil // not sendable
			}
			add = func(b *payload.Builder) { b.AddRouterKey(k, nil) }
		default:
			var prov []uint32
			for i := range uint32(4) {
				if y&(1<<i) != 0 {
					prov = append(prov, i) // AS 0 included at times
				}
			}
			a := payload.ASPA{Customer: uint32(x % 5), Providers: prov}
			add = func(b *payload.Builder) { b.AddASPA(a, nil) }
		}
		for i := range 3 {
			if sets&(1<<i) != 0 {
				add(&b[i])
			}
		}
	}
	return [3]*payload.Set{b[0].Build(), b[1].Build(), b[2].Build()}
}

// decodeBody parses every PDU of a response body.
func decodeBody(t *testing.T, r *response) []PDU {
	t.Helper()
	body := bytes.Join(r.chunks, nil)
	if len(body) != r.size {
		t.Fatalf("body of %d octets, response says %d", len(body), r.size)
	}
	var pdus []PDU
	for len(body) > 0 {
		p, n, err := ParsePDU(body)
		if err != nil {
			t.Fatalf("PDU %d of the body: %v", len(pdus), err)
		}
		pdus = append(pdus, p)
		body = body[n:]
	}
	if len(pdus) != r.pdus {
		t.Fatalf("%d PDUs, response says %d", len(pdus), r.pdus)
	}
	return pdus
}

// checkDeltas publishes the three sets in turn and checks, for every
// version, that the full response builds the last set's table from
// nothing and each delta builds it from the table of its serial, with
// PDUs a router accepts: no duplicate announcement, no withdrawal of an
// unknown record, the order of draft-8210bis §11.2.
func checkDeltas(t *testing.T, sets [3]*payload.Set, aspa, bgpsec bool) {
	srv := NewServer(Config{HistorySize: 2, EnableASPA: aspa, EnableBGPsec: bgpsec})
	defer srv.Close()
	var serials []Serial
	var published []*payload.Set
	for _, s := range sets {
		before := srv.cur.Load()
		srv.Publish(s)
		snap := srv.cur.Load()
		if before != nil && snap == before {
			// Nothing a router sees changed: same serial, same tables.
			for v := range uint8(versions) {
				if ok, diff := TableOf(s, v, aspa, bgpsec).Equal(TableOf(published[len(published)-1], v, aspa, bgpsec)); !ok {
					t.Fatalf("version %d: no new serial, yet the tables differ: %s", v, diff)
				}
			}
			published[len(published)-1] = s
			continue
		}
		serials = append(serials, snap.serial)
		published = append(published, s)
	}
	snap := srv.cur.Load()
	last := published[len(published)-1]
	for v := range uint8(versions) {
		want := TableOf(last, v, aspa, bgpsec)
		got := NewTable()
		if err := got.Apply(decodeBody(t, snap.fullR[v].get(snap.full, v))); err != nil {
			t.Fatalf("version %d full response: %v", v, err)
		}
		if ok, diff := got.Equal(want); !ok {
			t.Fatalf("version %d full response: %s", v, diff)
		}
		if len(snap.deltas) != len(serials)-1 {
			t.Fatalf("%d deltas kept, want %d", len(snap.deltas), len(serials)-1)
		}
		for i, from := range serials[:len(serials)-1] {
			e := snap.delta(from)
			if e == nil {
				t.Fatalf("no delta from serial %d", from)
			}
			got := TableOf(published[i], v, aspa, bgpsec)
			if err := got.Apply(decodeBody(t, e.resp[v].get(e.ch, v))); err != nil {
				t.Fatalf("version %d delta from serial %d: %v", v, from, err)
			}
			if ok, diff := got.Equal(want); !ok {
				t.Fatalf("version %d delta from serial %d: %s", v, from, diff)
			}
		}
	}
}

func TestDeltas(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"add and remove VRPs", []byte{1, 0, 0, 1, 2, 1, 0, 1, 4, 5, 1, 2, 7, 6, 2, 3}},
		{"same address, other lengths", []byte{7, 0, 0, 1, 7, 1, 1, 1, 3, 1, 2, 1, 6, 1, 3, 2}},
		{"changes cancel out over two serials", []byte{5, 4, 0, 1, 2, 5, 0, 1}},
		{"router keys", []byte{8 + 3, 0, 1, 0, 8 + 6, 1, 2, 1, 8 + 7, 2, 5, 2}},
		{"ASPAs changed, AS 0 dropped beside others", []byte{16 + 7, 1, 3, 0, 16 + 1, 2, 1, 0, 16 + 6, 2, 2, 0, 16 + 2, 3, 1, 0, 16 + 4, 3, 3, 0}},
		{"unsendable items", []byte{7, 1, 0x81, 1, 8 + 7, 0, 5, 0, 16 + 7, 4, 0, 0}},
	}
	for _, tc := range tests {
		for _, flags := range []struct{ aspa, bgpsec bool }{{false, false}, {true, true}, {true, false}} {
			t.Run(tc.name, func(t *testing.T) { checkDeltas(t, fuzzSets(tc.data), flags.aspa, flags.bgpsec) })
		}
	}
}

// TestCompose checks the composition of deltas directly: the changes from
// a to c equal the composed changes a→b, b→c.
func TestCompose(t *testing.T) {
	sets := fuzzSets([]byte{1, 0, 0, 1, 2, 1, 0, 1, 4, 5, 1, 2, 7, 6, 2, 3, 16 + 5, 1, 3, 0, 16 + 2, 1, 1, 0, 8 + 5, 1, 1, 1, 8 + 2, 2, 1, 1})
	f := filter{aspa: true, bgpsec: true}
	ab := f.changesFrom(payload.Compute(sets[0], sets[1]), sets[0])
	bc := f.changesFrom(payload.Compute(sets[1], sets[2]), sets[1])
	ac := f.changesFrom(payload.Compute(sets[0], sets[2]), sets[0])
	got := compose(ab, bc)
	for v := range uint8(versions) {
		if g, w := encode(got, v), encode(ac, v); !bytes.Equal(bytes.Join(g.chunks, nil), bytes.Join(w.chunks, nil)) {
			t.Errorf("version %d: composed delta differs from the direct one", v)
		}
	}
}

// FuzzDelta checks the deltas built from fuzzed sets against the sets
// themselves: applying the delta PDUs to a router's table at an old
// serial must give the table of the new set (a naive set difference does
// the checking, through the Table model).
func FuzzDelta(f *testing.F) {
	f.Add([]byte{}, byte(3))
	f.Add([]byte{1, 0, 0, 1, 2, 1, 0, 1, 4, 5, 1, 2, 7, 6, 2, 3}, byte(0))
	f.Add([]byte{16 + 7, 1, 3, 0, 16 + 1, 2, 1, 0, 16 + 6, 2, 2, 0, 8 + 3, 0, 1, 0, 8 + 6, 1, 2, 1}, byte(3))
	f.Fuzz(func(t *testing.T, data []byte, flags byte) {
		if len(data) > 400 {
			return
		}
		checkDeltas(t, fuzzSets(data), flags&1 != 0, flags&2 != 0)
	})
}

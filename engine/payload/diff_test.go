package payload_test

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rovd/rovd/engine/payload"
)

func aspa(customer uint32, providers ...uint32) payload.ASPA {
	return payload.ASPA{Customer: customer, Providers: providers}
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name     string
		from, to *payload.Set // nil means no set at all
		want     payload.Delta
	}{
		{
			name: "nil to nil",
		},
		{
			name: "nil to empty",
			to:   build(),
		},
		{
			name: "nil announces everything",
			to: build(
				addV(vrp(1, "2001:db8::/32", 32), srcA1),
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addK(key(1, 1, "k"), srcA1),
				addA(aspa(7, 1, 2), srcA1),
			),
			want: payload.Delta{
				AnnouncedVRPs:  []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(1, "2001:db8::/32", 32)},
				AnnouncedKeys:  []payload.RouterKey{key(1, 1, "k")},
				AnnouncedASPAs: []payload.ASPA{aspa(7, 1, 2)},
			},
		},
		{
			name: "nil target withdraws everything",
			from: build(
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addK(key(1, 1, "k"), srcA1),
				addA(aspa(7, 1, 2), srcA1),
			),
			want: payload.Delta{
				WithdrawnVRPs:  []payload.VRP{vrp(1, "10.0.0.0/8", 8)},
				WithdrawnKeys:  []payload.RouterKey{key(1, 1, "k")},
				WithdrawnASPAs: []uint32{7},
			},
		},
		{
			name: "same items from other sources change nothing",
			from: build(addV(vrp(1, "10.0.0.0/8", 8), srcA1), addA(aspa(7, 1), srcA1), addK(key(1, 1, "k"), srcA1)),
			to:   build(addV(vrp(1, "10.0.0.0/8", 8), srcB1), addA(aspa(7, 1), srcB1), addK(key(1, 1, "k"), srcB1)),
		},
		{
			name: "VRPs differing in one field are distinct",
			from: build(
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(1, "10.0.0.0/16", 16), srcA1),
				addV(vrp(1, "11.0.0.0/8", 8), srcA1),
			),
			to: build(
				addV(vrp(2, "10.0.0.0/8", 8), srcA1),
				addV(vrp(1, "10.0.0.0/16", 24), srcA1),
				addV(vrp(1, "11.0.0.0/8", 8), srcA1),
				addV(vrp(1, "2001:db8::/32", 32), srcA1),
			),
			want: payload.Delta{
				AnnouncedVRPs: []payload.VRP{vrp(2, "10.0.0.0/8", 8), vrp(1, "10.0.0.0/16", 24), vrp(1, "2001:db8::/32", 32)},
				WithdrawnVRPs: []payload.VRP{vrp(1, "10.0.0.0/8", 8), vrp(1, "10.0.0.0/16", 16)},
			},
		},
		{
			name: "router key with another SPKI replaces the old one",
			from: build(addK(key(1, 1, "old"), srcA1), addK(key(2, 1, "k"), srcA1)),
			to:   build(addK(key(1, 1, "new"), srcA1), addK(key(2, 1, "k"), srcA1)),
			want: payload.Delta{
				AnnouncedKeys: []payload.RouterKey{key(1, 1, "new")},
				WithdrawnKeys: []payload.RouterKey{key(1, 1, "old")},
			},
		},
		{
			name: "ASPA added, changed, removed, unchanged",
			from: build(
				addA(aspa(1, 10), srcA1),
				addA(aspa(2, 10, 11), srcA1),
				addA(aspa(3, 10), srcA1),
			),
			to: build(
				addA(aspa(2, 10), srcA1),
				addA(aspa(3, 10), srcA1),
				addA(aspa(4, 12), srcA1),
			),
			want: payload.Delta{
				AnnouncedASPAs: []payload.ASPA{aspa(2, 10), aspa(4, 12)},
				WithdrawnASPAs: []uint32{1},
			},
		},
		{
			name: "ASPA change by merging a second object's providers",
			from: build(addA(aspa(1, 10), srcA1)),
			to:   build(addA(aspa(1, 10), srcA1), addA(aspa(1, 9), srcB1)),
			want: payload.Delta{AnnouncedASPAs: []payload.ASPA{aspa(1, 9, 10)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := payload.Compute(tc.from, tc.to)
			if diff := cmp.Diff(&tc.want, d, prefixEqual, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compute (-want +got):\n%s", diff)
			}
			wantEmpty := cmp.Equal(tc.want, payload.Delta{}, prefixEqual, cmpopts.EquateEmpty())
			if d.Empty() != wantEmpty {
				t.Errorf("Empty() = %v, want %v", d.Empty(), wantEmpty)
			}
		})
	}
}

// fuzzSets reads two sets from data in 4-byte records. The values come
// from small ranges so that the sets overlap, duplicates occur and masking
// merges prefixes.
func fuzzSets(data []byte) (from, to *payload.Set) {
	var a, b payload.Builder
	srcs := []*payload.Source{srcA1, srcA2, srcB1}
	for i := 0; i+4 <= len(data); i += 4 {
		op, p1, p2, p3 := data[i], data[i+1], data[i+2], data[i+3]
		targets := []*payload.Builder{&a, &b} // op%4 == 3: in both sets
		switch op % 4 {
		case 0, 1:
			targets = targets[:1]
		case 2:
			targets = targets[1:]
		}
		src := srcs[int(p3)%len(srcs)]
		for _, bl := range targets {
			switch (op / 4) % 3 {
			case 0:
				bits := []int{8, 16, 24}[p2%3]
				addr := netip.AddrFrom4([4]byte{10, p1 & 3, p1 >> 2 & 1, 0})
				if p1&0x80 != 0 {
					bits = []int{32, 48, 64}[p2%3]
					addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, p1 & 3, 0, p1 >> 2 & 1})
				}
				bl.AddVRP(payload.VRP{
					ASN:       uint32(p3 % 4),
					Prefix:    netip.PrefixFrom(addr, bits),
					MaxLength: uint8(bits) + (p2/3)%3,
				}, src)
			case 1:
				bl.AddRouterKey(key(uint32(p1%4), p2%3, string(make([]byte, p3%3))), src)
			case 2:
				var providers []uint32
				for bit := range 8 {
					if p2&(1<<bit) != 0 {
						providers = append(providers, uint32(bit+1))
					}
				}
				bl.AddASPA(payload.ASPA{Customer: uint32(p1 % 8), Providers: providers}, src)
			}
		}
	}
	return a.Build(), b.Build()
}

// keyString makes a router key usable as a map key.
func keyString(k payload.RouterKey) string {
	return fmt.Sprintf("%d/%x/%x", k.ASN, k.SKI, k.SPKI)
}

// naiveDelta computes the difference with maps, the obvious way.
func naiveDelta(from, to *payload.Set) payload.Delta {
	var d payload.Delta
	fromV, toV := make(map[payload.VRP]bool), make(map[payload.VRP]bool)
	for _, v := range from.VRPs() {
		fromV[v] = true
	}
	for _, v := range to.VRPs() {
		toV[v] = true
		if !fromV[v] {
			d.AnnouncedVRPs = append(d.AnnouncedVRPs, v)
		}
	}
	for v := range fromV {
		if !toV[v] {
			d.WithdrawnVRPs = append(d.WithdrawnVRPs, v)
		}
	}
	slices.SortFunc(d.WithdrawnVRPs, payload.VRP.Compare)

	fromK, toK := make(map[string]payload.RouterKey), make(map[string]payload.RouterKey)
	for _, k := range from.RouterKeys() {
		fromK[keyString(k)] = k
	}
	for _, k := range to.RouterKeys() {
		toK[keyString(k)] = k
		if _, ok := fromK[keyString(k)]; !ok {
			d.AnnouncedKeys = append(d.AnnouncedKeys, k)
		}
	}
	for s, k := range fromK {
		if _, ok := toK[s]; !ok {
			d.WithdrawnKeys = append(d.WithdrawnKeys, k)
		}
	}
	slices.SortFunc(d.WithdrawnKeys, payload.RouterKey.Compare)

	fromA, toA := make(map[uint32][]uint32), make(map[uint32][]uint32)
	for _, a := range from.ASPAs() {
		fromA[a.Customer] = a.Providers
	}
	for _, a := range to.ASPAs() {
		toA[a.Customer] = a.Providers
		if old, ok := fromA[a.Customer]; !ok || !slices.Equal(old, a.Providers) {
			d.AnnouncedASPAs = append(d.AnnouncedASPAs, a)
		}
	}
	for c := range fromA {
		if _, ok := toA[c]; !ok {
			d.WithdrawnASPAs = append(d.WithdrawnASPAs, c)
		}
	}
	slices.Sort(d.WithdrawnASPAs)
	return d
}

// applied is the state a router holds: what a Set's lists say, in maps.
type applied struct {
	vrps  map[payload.VRP]bool
	keys  map[string]payload.RouterKey
	aspas map[uint32][]uint32
}

func stateOf(s *payload.Set) applied {
	st := applied{make(map[payload.VRP]bool), make(map[string]payload.RouterKey), make(map[uint32][]uint32)}
	for _, v := range s.VRPs() {
		st.vrps[v] = true
	}
	for _, k := range s.RouterKeys() {
		st.keys[keyString(k)] = k
	}
	for _, a := range s.ASPAs() {
		st.aspas[a.Customer] = a.Providers
	}
	return st
}

// apply plays d on st the way an RTR router must, failing on what RFC 8210
// §5.6 makes an error: announcing what is held or withdrawing what is not.
func (st applied) apply(t *testing.T, d *payload.Delta) {
	t.Helper()
	for _, v := range d.WithdrawnVRPs {
		if !st.vrps[v] {
			t.Errorf("withdrawn VRP %v was not announced", v)
		}
		delete(st.vrps, v)
	}
	for _, v := range d.AnnouncedVRPs {
		if st.vrps[v] {
			t.Errorf("announced VRP %v is already held", v)
		}
		st.vrps[v] = true
	}
	for _, k := range d.WithdrawnKeys {
		if _, ok := st.keys[keyString(k)]; !ok {
			t.Errorf("withdrawn key %v was not announced", k)
		}
		delete(st.keys, keyString(k))
	}
	for _, k := range d.AnnouncedKeys {
		if _, ok := st.keys[keyString(k)]; ok {
			t.Errorf("announced key %v is already held", k)
		}
		st.keys[keyString(k)] = k
	}
	for _, c := range d.WithdrawnASPAs {
		if _, ok := st.aspas[c]; !ok {
			t.Errorf("withdrawn ASPA customer %d was not announced", c)
		}
		delete(st.aspas, c)
	}
	for _, a := range d.AnnouncedASPAs {
		// For ASPA an announcement replaces the customer's providers.
		st.aspas[a.Customer] = a.Providers
	}
}

func (st applied) equal(o applied) bool {
	return maps.Equal(st.vrps, o.vrps) &&
		maps.EqualFunc(st.keys, o.keys, func(a, b payload.RouterKey) bool { return a.Compare(b) == 0 }) &&
		maps.EqualFunc(st.aspas, o.aspas, slices.Equal)
}

func checkSorted[T any](t *testing.T, what string, s []T, compare func(T, T) int) {
	t.Helper()
	for i := 1; i < len(s); i++ {
		if compare(s[i-1], s[i]) >= 0 {
			t.Errorf("%s not strictly sorted at %d", what, i)
		}
	}
}

func checkDelta(t *testing.T, from, to *payload.Set) {
	t.Helper()
	for _, dir := range []struct {
		name     string
		from, to *payload.Set
	}{{"forward", from, to}, {"backward", to, from}} {
		d := payload.Compute(dir.from, dir.to)
		want := naiveDelta(dir.from, dir.to)
		if diff := cmp.Diff(&want, d, prefixEqual, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: Compute differs from the naive difference (-naive +Compute):\n%s", dir.name, diff)
		}
		checkSorted(t, "AnnouncedVRPs", d.AnnouncedVRPs, payload.VRP.Compare)
		checkSorted(t, "WithdrawnVRPs", d.WithdrawnVRPs, payload.VRP.Compare)
		checkSorted(t, "AnnouncedKeys", d.AnnouncedKeys, payload.RouterKey.Compare)
		checkSorted(t, "WithdrawnKeys", d.WithdrawnKeys, payload.RouterKey.Compare)
		checkSorted(t, "AnnouncedASPAs", d.AnnouncedASPAs, func(a, b payload.ASPA) int { return int(a.Customer) - int(b.Customer) })
		checkSorted(t, "WithdrawnASPAs", d.WithdrawnASPAs, func(a, b uint32) int { return int(a) - int(b) })

		st := stateOf(dir.from)
		st.apply(t, d)
		if !st.equal(stateOf(dir.to)) {
			t.Errorf("%s: applying the delta does not give the target set", dir.name)
		}
		if d.Empty() != st.equal(stateOf(dir.from)) {
			t.Errorf("%s: Empty() = %v, want %v", dir.name, d.Empty(), !d.Empty())
		}
		full := payload.Compute(nil, dir.to)
		st = stateOf(new(payload.Set))
		st.apply(t, full)
		if !st.equal(stateOf(dir.to)) {
			t.Errorf("%s: applying Compute(nil, to) to nothing does not give the target set", dir.name)
		}
	}
}

func FuzzDiff(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 1, 1, 2, 3, 3, 9, 9, 9})
	f.Add([]byte{
		0, 0x81, 4, 1, 1, 0x81, 4, 1, 3, 5, 0, 2, // VRPs
		4, 1, 1, 1, 5, 1, 1, 2, 7, 1, 2, 0, // router keys
		8, 3, 0x0f, 0, 9, 3, 0x0e, 1, 11, 4, 1, 2, 10, 4, 2, 2, // ASPAs
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		from, to := fuzzSets(data)
		checkDelta(t, from, to)
	})
}

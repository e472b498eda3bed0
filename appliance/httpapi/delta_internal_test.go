package httpapi

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

// randomSet draws a set from a small universe, so that consecutive sets
// share items, lose some and gain others.
func randomSet(r *rand.Rand) *payload.Set {
	var b payload.Builder
	for i := range 24 {
		if r.IntN(2) == 0 {
			continue
		}
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		b.AddVRP(payload.VRP{ASN: 64496 + uint32(i%3), Prefix: p, MaxLength: 16 + uint8(i%2)}, nil)
	}
	for c := range 6 {
		if r.IntN(3) == 0 {
			continue
		}
		var providers []uint32
		for p := range 3 {
			if r.IntN(2) == 0 {
				providers = append(providers, 65000+uint32(p))
			}
		}
		b.AddASPA(payload.ASPA{Customer: 64600 + uint32(c), Providers: providers}, nil)
	}
	for k := range 6 {
		if r.IntN(2) == 0 {
			continue
		}
		key := payload.RouterKey{ASN: 64700 + uint32(k), SPKI: []byte{byte(k)}}
		b.AddRouterKey(key, nil)
	}
	return b.Build()
}

// apply turns the items of from into those of to by nd, the way a
// client of /json-delta does.
func apply(from *payload.Set, nd *netDelta) ([]payload.VRP, []payload.RouterKey, map[uint32][]uint32) {
	vrps := map[payload.VRP]bool{}
	for _, v := range from.VRPs() {
		vrps[v] = true
	}
	for _, v := range nd.wdrVRPs {
		delete(vrps, v)
	}
	for _, v := range nd.annVRPs {
		vrps[v] = true
	}
	keys := map[string]payload.RouterKey{}
	id := func(k payload.RouterKey) string { return string(k.SKI[:]) + string(k.SPKI) + string(rune(k.ASN)) }
	for _, k := range from.RouterKeys() {
		keys[id(k)] = k
	}
	for _, k := range nd.wdrKeys {
		delete(keys, id(k))
	}
	for _, k := range nd.annKeys {
		keys[id(k)] = k
	}
	aspas := map[uint32][]uint32{}
	for _, a := range from.ASPAs() {
		aspas[a.Customer] = a.Providers
	}
	for _, c := range nd.wdrASPAs {
		delete(aspas, c)
	}
	for _, a := range nd.annASPAs {
		aspas[a.Customer] = a.Providers
	}
	var vl []payload.VRP
	for v := range vrps {
		vl = append(vl, v)
	}
	slices.SortFunc(vl, payload.VRP.Compare)
	var kl []payload.RouterKey
	for _, k := range keys {
		kl = append(kl, k)
	}
	slices.SortFunc(kl, payload.RouterKey.Compare)
	return vl, kl, aspas
}

// naiveDiff is the set difference of two sorted lists, the slow way.
func naiveDiff[T comparable](a, b []T) []T {
	var out []T
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

var eqPrefix = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

// TestCompose checks composed steps against the sets they join: the
// VRP changes are the exact set differences, the router key changes
// turn the old keys into the new, and applying the change to the older
// set gives the newer one, ASPAs included. Withdrawn ASPAs are exactly
// the customers that lost theirs; an announced ASPA is one the newer set
// has.
func TestCompose(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 9))
	for round := range 200 {
		sets := []*payload.Set{randomSet(r)}
		var steps []*step
		for range 1 + r.IntN(6) {
			next := randomSet(r)
			prev := sets[len(sets)-1]
			steps = append(steps, newStep(prev, payload.Compute(prev, next)))
			sets = append(sets, next)
		}
		for from := range len(steps) {
			first, last := sets[from], sets[len(sets)-1]
			nd := compose(steps[from:])
			if diff := cmp.Diff(naiveDiff(last.VRPs(), first.VRPs()), nd.annVRPs, eqPrefix); diff != "" {
				t.Fatalf("round %d from %d: announced VRPs (-want +got):\n%s", round, from, diff)
			}
			if diff := cmp.Diff(naiveDiff(first.VRPs(), last.VRPs()), nd.wdrVRPs, eqPrefix); diff != "" {
				t.Fatalf("round %d from %d: withdrawn VRPs (-want +got):\n%s", round, from, diff)
			}
			vrps, keys, aspas := apply(first, nd)
			if diff := cmp.Diff(last.VRPs(), vrps, eqPrefix); diff != "" {
				t.Fatalf("round %d from %d: applied VRPs (-want +got):\n%s", round, from, diff)
			}
			if diff := cmp.Diff(last.RouterKeys(), keys); diff != "" {
				t.Fatalf("round %d from %d: applied keys (-want +got):\n%s", round, from, diff)
			}
			want := map[uint32][]uint32{}
			for _, a := range last.ASPAs() {
				want[a.Customer] = a.Providers
			}
			if diff := cmp.Diff(want, aspas); diff != "" {
				t.Fatalf("round %d from %d: applied ASPAs (-want +got):\n%s", round, from, diff)
			}
			var lost []uint32
			for _, a := range first.ASPAs() {
				if _, ok := want[a.Customer]; !ok {
					lost = append(lost, a.Customer)
				}
			}
			if diff := cmp.Diff(lost, nd.wdrASPAs); diff != "" {
				t.Fatalf("round %d from %d: withdrawn ASPAs (-want +got):\n%s", round, from, diff)
			}
			for _, a := range nd.annASPAs {
				if _, ok := want[a.Customer]; !ok {
					t.Fatalf("round %d from %d: AS%d announced without an ASPA", round, from, a.Customer)
				}
			}
		}
	}
}

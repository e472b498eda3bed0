package payload

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// VRP is a validated ROA payload (RFC 6811): an origin AS allowed to
// announce a prefix up to MaxLength.
type VRP struct {
	ASN       uint32
	Prefix    netip.Prefix
	MaxLength uint8
}

// Compare orders VRPs by prefix (IPv4 first, then address and length),
// then maximum length, then ASN.
func (v VRP) Compare(w VRP) int {
	if c := comparePrefix(v.Prefix, w.Prefix); c != 0 {
		return c
	}
	if c := cmp.Compare(v.MaxLength, w.MaxLength); c != 0 {
		return c
	}
	return cmp.Compare(v.ASN, w.ASN)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// ASPA is a validated AS provider attestation: the customer AS and its
// sorted, unique provider ASes.
type ASPA struct {
	Customer  uint32
	Providers []uint32
}

// RouterKey is a validated BGPsec router key (RFC 8209): the AS, the
// key's subject key identifier and its DER SubjectPublicKeyInfo.
type RouterKey struct {
	ASN  uint32
	SKI  [20]byte
	SPKI []byte
}

// Compare orders router keys by ASN, SKI and key.
func (k RouterKey) Compare(o RouterKey) int {
	if c := cmp.Compare(k.ASN, o.ASN); c != 0 {
		return c
	}
	if c := bytes.Compare(k.SKI[:], o.SKI[:]); c != 0 {
		return c
	}
	return bytes.Compare(k.SPKI, o.SPKI)
}

// Validity is a time span, inclusive at both ends.
type Validity struct {
	NotBefore, NotAfter time.Time
}

// Source is where a payload item came from, for the extended output
// formats: the trust anchor (its label), the object, the object's own
// validity (its EE certificate) and the validity of the chain above it
// (the intersection of the certificates, manifests and CRLs it rests on).
// One Source is shared by everything a single object yields.
type Source struct {
	TA       string
	URI      string
	Validity Validity
	Chain    Validity
}

type sourced[T any] struct {
	item T
	src  *Source
}

// Builder gathers the payload of a validation run. Each worker fills a
// Builder of its own; Merge joins them and Build sorts the result into
// an immutable Set. A Builder is not safe for concurrent use.
type Builder struct {
	vrps  []sourced[VRP]
	aspas []sourced[ASPA]
	keys  []sourced[RouterKey]
	// merged are builders handed to Merge, not yet joined.
	merged []Builder
}

// AddVRP adds a VRP found in the object that src describes. Host bits
// set beyond the prefix length are cleared.
func (b *Builder) AddVRP(v VRP, src *Source) {
	// Masking here makes 10.0.0.1/8 and 10.0.0.0/8 one VRP, and keeps every
	// VRP of a prefix in one run of the sorted slice, which the validity
	// index relies on.
	v.Prefix = v.Prefix.Masked()
	b.vrps = append(b.vrps, sourced[VRP]{v, src})
}

// AddASPA adds an ASPA. Providers must be sorted and unique.
func (b *Builder) AddASPA(a ASPA, src *Source) {
	b.aspas = append(b.aspas, sourced[ASPA]{a, src})
}

// AddRouterKey adds a router key.
func (b *Builder) AddRouterKey(k RouterKey, src *Source) {
	b.keys = append(b.keys, sourced[RouterKey]{k, src})
}

// Len returns the number of VRPs added so far, duplicates included.
func (b *Builder) Len() int {
	n := len(b.vrps)
	for _, m := range b.merged {
		n += len(m.vrps)
	}
	return n
}

// Grow makes room for n more VRPs, so that adding a known number does
// not reallocate on the way.
func (b *Builder) Grow(n int) { b.vrps = slices.Grow(b.vrps, n) }

// Merge moves everything o holds into b and empties o. The items are
// joined once, in Build or FilterVRPs: appending each of tens of
// thousands of small builders would copy the growing slices again and
// again.
func (b *Builder) Merge(o *Builder) {
	if len(o.vrps)+len(o.aspas)+len(o.keys)+len(o.merged) == 0 {
		return // points without payload are common; keep merged short
	}
	inner := o.merged
	o.merged = nil
	b.merged = append(b.merged, *o)
	b.merged = append(b.merged, inner...)
	*o = Builder{}
}

// join brings the merged builders' items into b's own slices.
func (b *Builder) join() {
	if len(b.merged) == 0 {
		return
	}
	nv, na, nk := len(b.vrps), len(b.aspas), len(b.keys)
	for _, m := range b.merged {
		nv, na, nk = nv+len(m.vrps), na+len(m.aspas), nk+len(m.keys)
	}
	b.vrps = slices.Grow(b.vrps, nv-len(b.vrps))
	b.aspas = slices.Grow(b.aspas, na-len(b.aspas))
	b.keys = slices.Grow(b.keys, nk-len(b.keys))
	for _, m := range b.merged {
		b.vrps = append(b.vrps, m.vrps...)
		b.aspas = append(b.aspas, m.aspas...)
		b.keys = append(b.keys, m.keys...)
	}
	b.merged = nil
}

// FilterVRPs drops the VRPs for which keep returns false and returns
// them sorted and unique, without their sources.
func (b *Builder) FilterVRPs(keep func(VRP) bool) []VRP {
	b.join()
	var dropped []VRP
	kept := b.vrps[:0]
	for _, v := range b.vrps {
		if keep(v.item) {
			kept = append(kept, v)
		} else {
			dropped = append(dropped, v.item)
		}
	}
	clear(b.vrps[len(kept):])
	b.vrps = kept
	slices.SortFunc(dropped, VRP.Compare)
	return slices.Compact(dropped)
}

// Set is the immutable payload of one validation run, sorted and
// without duplicates. It may be read by any number of goroutines.
type Set struct {
	vrps       []VRP
	vrpSources [][]*Source // parallel to vrps
	aspas      []ASPA
	aspaSrc    [][]*Source
	keys       []RouterKey
	keySources [][]*Source

	// Built on first use, so that a run whose set nobody queries does not
	// pay for them; immutable afterwards.
	indexOnce  sync.Once
	index      *prefixIndex
	countsOnce sync.Once
	counts     Counts
}

// Build sorts and deduplicates what b holds into a Set. An item found in
// several objects keeps every source; ASPAs of the same customer are
// merged into one with the union of their providers. b is empty after.
func (b *Builder) Build() *Set {
	b.join()
	s := &Set{}
	s.vrps, s.vrpSources = dedupe(b.vrps, VRP.Compare)
	s.keys, s.keySources = dedupe(b.keys, RouterKey.Compare)

	slices.SortFunc(b.aspas, func(x, y sourced[ASPA]) int { return cmp.Compare(x.item.Customer, y.item.Customer) })
	for i := 0; i < len(b.aspas); {
		j := i + 1
		for j < len(b.aspas) && b.aspas[j].item.Customer == b.aspas[i].item.Customer {
			j++
		}
		var providers []uint32
		srcs := make([]*Source, 0, j-i)
		for _, a := range b.aspas[i:j] {
			providers = append(providers, a.item.Providers...)
			if !slices.Contains(srcs, a.src) {
				srcs = append(srcs, a.src)
			}
		}
		slices.Sort(providers)
		s.aspas = append(s.aspas, ASPA{Customer: b.aspas[i].item.Customer, Providers: slices.Compact(providers)})
		s.aspaSrc = append(s.aspaSrc, srcs)
		i = j
	}
	*b = Builder{}
	return s
}

func dedupe[T any](in []sourced[T], compare func(T, T) int) ([]T, [][]*Source) {
	if len(in) == 0 {
		return nil, nil
	}
	sortParallel(in, func(x, y sourced[T]) int { return compare(x.item, y.item) })
	// Equal items are adjacent after the sort, so their sources are too:
	// one backing array holds every source list, instead of one small
	// allocation per item (600,000 of them at global scale).
	all := make([]*Source, 0, len(in))
	items := make([]T, 0, len(in))
	srcs := make([][]*Source, 0, len(in))
	start := 0
	for i, v := range in {
		if i == 0 || compare(in[i-1].item, v.item) != 0 {
			if i > 0 {
				srcs = append(srcs, all[start:len(all):len(all)])
			}
			start = len(all)
			items = append(items, v.item)
		} else if slices.Contains(all[start:], v.src) {
			// An object that lists the same item twice is still one
			// source of it.
			continue
		}
		all = append(all, v.src)
	}
	srcs = append(srcs, all[start:len(all):len(all)])
	return items, srcs
}

// VRPs returns the sorted VRPs. The slice is shared: do not modify it.
func (s *Set) VRPs() []VRP { return s.vrps }

// VRPSources returns where the i-th VRP came from.
func (s *Set) VRPSources(i int) []*Source { return s.vrpSources[i] }

// ASPAs returns the ASPAs sorted by customer. Shared: do not modify.
func (s *Set) ASPAs() []ASPA { return s.aspas }

// ASPASources returns where the i-th ASPA came from.
func (s *Set) ASPASources(i int) []*Source { return s.aspaSrc[i] }

// RouterKeys returns the sorted router keys. Shared: do not modify.
func (s *Set) RouterKeys() []RouterKey { return s.keys }

// RouterKeySources returns where the i-th router key came from.
func (s *Set) RouterKeySources(i int) []*Source { return s.keySources[i] }

package payload

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Merging exceptions files and applying them to a Builder.

// covers reports whether p equals or is less specific than q, of the same
// address family.
func covers(p, q netip.Prefix) bool {
	return p.Bits() <= q.Bits() && p.Contains(q.Addr())
}

// MergeSLURM joins the exceptions of several files into one, keeping
// their order. Each assertion's Path is set to its file's Path unless it
// has one already. nil files are skipped. The result shares the key bytes
// of the BGPsec assertions with files.
//
// RFC 8416 §4.2 makes overlaps between files an error, and so does
// MergeSLURM; it checks exactly this, between entries of different files
// (overlaps inside one file are fine):
//
//   - the prefixes of prefix filters (those that have one) and prefix
//     assertions: two overlap when one equals or covers the other, that
//     is, when some address is in both;
//   - the ASNs of BGPsec filters (those that have one) and BGPsec
//     assertions: two overlap when they are equal.
//
// Prefix filters with only an ASN and BGPsec filters with only an SKI are
// not compared. The error names both files (their Path, or "file N" for
// the N-th argument when it has none) and both entries. Routinator does
// not make this check; it applies all files.
func MergeSLURM(files ...*SLURM) (*SLURM, error) {
	if err := checkOverlaps(files); err != nil {
		return nil, err
	}
	out := &SLURM{}
	for _, f := range files {
		if f == nil {
			continue
		}
		out.PrefixFilters = append(out.PrefixFilters, f.PrefixFilters...)
		out.BGPsecFilters = append(out.BGPsecFilters, f.BGPsecFilters...)
		for _, a := range f.PrefixAssertions {
			if a.Path == "" {
				a.Path = f.Path
			}
			out.PrefixAssertions = append(out.PrefixAssertions, a)
		}
		for _, a := range f.BGPsecAssertions {
			if a.Path == "" {
				a.Path = f.Path
			}
			out.BGPsecAssertions = append(out.BGPsecAssertions, a)
		}
	}
	return out, nil
}

// slurmEntry names one filter or assertion for an overlap error.
type slurmEntry struct {
	file   int
	list   string
	index  int
	prefix netip.Prefix
}

func (e slurmEntry) describe(files []*SLURM) string {
	name := files[e.file].Path
	if name == "" {
		name = fmt.Sprintf("file %d", e.file+1)
	}
	return fmt.Sprintf("%s %s[%d]", name, e.list, e.index)
}

func checkOverlaps(files []*SLURM) error {
	var prefixes []slurmEntry
	type asnEntry struct {
		slurmEntry
		asn uint32
	}
	var asns []asnEntry
	for i, f := range files {
		if f == nil {
			continue
		}
		for j, p := range f.PrefixFilters {
			if p.Prefix.IsValid() {
				prefixes = append(prefixes, slurmEntry{i, memPrefixFilters, j, p.Prefix})
			}
		}
		for j, a := range f.PrefixAssertions {
			prefixes = append(prefixes, slurmEntry{i, memPrefixAssertions, j, a.VRP.Prefix})
		}
		for j, b := range f.BGPsecFilters {
			if b.HasASN {
				asns = append(asns, asnEntry{slurmEntry{i, memBGPsecFilters, j, netip.Prefix{}}, b.ASN})
			}
		}
		for j, a := range f.BGPsecAssertions {
			asns = append(asns, asnEntry{slurmEntry{i, memBGPsecAssertions, j, netip.Prefix{}}, a.Key.ASN})
		}
	}

	// Sorted by address, then length, a prefix that overlaps an earlier
	// one is covered by it, and the earlier prefixes that cover the
	// current one form a chain of at most 129 nested prefixes. Keeping
	// that chain on a stack finds every overlap in one pass instead of
	// comparing all pairs.
	slices.SortStableFunc(prefixes, func(a, b slurmEntry) int { return comparePrefix(a.prefix, b.prefix) })
	var chain []slurmEntry
	for _, e := range prefixes {
		for len(chain) > 0 && !covers(chain[len(chain)-1].prefix, e.prefix) {
			chain = chain[:len(chain)-1]
		}
		for _, c := range chain {
			if c.file != e.file {
				return fmt.Errorf("slurm: %s (%s) overlaps %s (%s) (RFC 8416 §4.2)",
					c.describe(files), c.prefix, e.describe(files), e.prefix)
			}
		}
		// An equal prefix of the same file adds nothing to the chain;
		// leaving it out keeps the chain at most one entry per length.
		if n := len(chain); n > 0 && chain[n-1].prefix == e.prefix && chain[n-1].file == e.file {
			continue
		}
		chain = append(chain, e)
	}

	slices.SortStableFunc(asns, func(a, b asnEntry) int { return cmp.Compare(a.asn, b.asn) })
	for i := 0; i < len(asns); {
		j := i + 1
		for ; j < len(asns) && asns[j].asn == asns[i].asn; j++ {
			if asns[j].file != asns[i].file {
				return fmt.Errorf("slurm: %s and %s both name AS%d (RFC 8416 §4.2)",
					asns[i].describe(files), asns[j].describe(files), asns[i].asn)
			}
		}
		i = j
	}
	return nil
}

// ExceptionCounts says what ApplySLURM did, for metrics: the items its
// filters removed and the assertions it added (before duplicates with
// RPKI items are merged by Build).
type ExceptionCounts struct {
	FilteredVRPs       int
	FilteredRouterKeys int
	AddedVRPs          int
	AddedRouterKeys    int
}

// ApplySLURM applies local exceptions to everything b holds, the merged
// builders included: first it removes every VRP that a prefix filter
// matches and every router key that a BGPsec filter matches, then it adds
// the assertions, which filters therefore never remove (RFC 8416 §4,
// Routinator). ASPAs are left alone. Call it once per run, after the last
// Merge and before Build.
//
// source gives the Source of the assertions of one file, given its path
// (the assertion's Path, else s.Path); it is called once per path. With
// a nil source each path gets &Source{TA: "", URI: path}. An empty TA is
// what marks an exception: Routinator has no TAL for one, so its csv,
// csvcompat, json and rpsl formats print "N/A" where the TA goes, csvext
// prints "N/A" for the URI and the validity, and jsonext prints
// {"type": "exception", "path": PATH}.
func (b *Builder) ApplySLURM(s *SLURM, source func(path string) *Source) ExceptionCounts {
	var c ExceptionCounts
	if s == nil {
		return c
	}
	b.join()
	if len(s.PrefixFilters) > 0 {
		idx := newPrefixFilterIndex(s.PrefixFilters)
		kept := b.vrps[:0]
		for _, v := range b.vrps {
			if idx.matches(v.item) {
				c.FilteredVRPs++
				continue
			}
			kept = append(kept, v)
		}
		clear(b.vrps[len(kept):])
		b.vrps = kept
	}
	if len(s.BGPsecFilters) > 0 {
		kept := b.keys[:0]
		for _, k := range b.keys {
			if slices.ContainsFunc(s.BGPsecFilters, func(f BGPsecFilter) bool { return f.Matches(k.item) }) {
				c.FilteredRouterKeys++
				continue
			}
			kept = append(kept, k)
		}
		clear(b.keys[len(kept):])
		b.keys = kept
	}

	if source == nil {
		source = func(path string) *Source { return &Source{URI: path} }
	}
	sources := map[string]*Source{}
	sourceOf := func(path string) *Source {
		if path == "" {
			path = s.Path
		}
		src, ok := sources[path]
		if !ok {
			src = source(path)
			sources[path] = src
		}
		return src
	}
	for _, a := range s.PrefixAssertions {
		b.AddVRP(a.VRP, sourceOf(a.Path))
		c.AddedVRPs++
	}
	for _, a := range s.BGPsecAssertions {
		k := a.Key
		// The set outlives s; it must not share the key bytes.
		k.SPKI = slices.Clone(k.SPKI)
		b.AddRouterKey(k, sourceOf(a.Path))
		c.AddedRouterKeys++
	}
	return c
}

// prefixFilterIndex finds the filters matching a VRP without trying each
// one: a global set has 600,000 VRPs, and an exceptions file made from
// `vrps --format slurm` thousands of entries. For each prefix length
// used by a filter, the VRP's prefix cut to that length is looked up.
type prefixFilterIndex struct {
	asns     map[uint32]struct{}         // filters with an ASN only
	prefixes map[netip.Prefix]filterASNs // filters with a prefix
	lens     [2][]int                    // distinct filter lengths, IPv4 and IPv6
}

// filterASNs are the filters of one prefix: any ASN, or the ones listed.
type filterASNs struct {
	any  bool
	asns []uint32
}

func newPrefixFilterIndex(filters []PrefixFilter) *prefixFilterIndex {
	idx := &prefixFilterIndex{asns: map[uint32]struct{}{}, prefixes: map[netip.Prefix]filterASNs{}}
	for _, f := range filters {
		switch {
		case f.Prefix.IsValid():
			e := idx.prefixes[f.Prefix]
			if f.HasASN {
				e.asns = append(e.asns, f.ASN)
			} else {
				e.any = true
			}
			idx.prefixes[f.Prefix] = e
			fam := family(f.Prefix)
			if !slices.Contains(idx.lens[fam], f.Prefix.Bits()) {
				idx.lens[fam] = append(idx.lens[fam], f.Prefix.Bits())
			}
		case f.HasASN:
			idx.asns[f.ASN] = struct{}{}
		}
	}
	return idx
}

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

func (idx *prefixFilterIndex) matches(v VRP) bool {
	if _, ok := idx.asns[v.ASN]; ok {
		return true
	}
	for _, l := range idx.lens[family(v.Prefix)] {
		if l > v.Prefix.Bits() {
			continue
		}
		// Addr().Prefix cannot fail: l is within the address length.
		p, _ := v.Prefix.Addr().Prefix(l)
		if e, ok := idx.prefixes[p]; ok && (e.any || slices.Contains(e.asns, v.ASN)) {
			return true
		}
	}
	return false
}

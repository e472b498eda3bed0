package payload

import (
	"slices"
	"strings"
)

// Count is how many items of each kind a set, or one trust anchor's part
// of it, holds.
type Count struct {
	VRPs       int
	ASPAs      int
	RouterKeys int
}

// TACount is the Count of one trust anchor.
type TACount struct {
	TA string
	Count
}

// Counts sums up a Set for metrics and status pages.
type Counts struct {
	// Total counts each distinct item once.
	Total Count
	// TAs holds one entry per trust anchor, sorted by TA. An item with
	// sources under several trust anchors counts once for each of them,
	// so the entries may add up to more than Total; an item whose source
	// is nil counts in Total only.
	TAs []TACount
}

// TA returns the Count of the trust anchor ta.
func (c Counts) TA(ta string) (Count, bool) {
	i, ok := slices.BinarySearchFunc(c.TAs, ta, func(e TACount, t string) int { return strings.Compare(e.TA, t) })
	if !ok {
		return Count{}, false
	}
	return c.TAs[i].Count, true
}

// Counts returns the counts of s. They are computed on the first call;
// each call returns its own copy of the TAs slice.
func (s *Set) Counts() Counts {
	s.countsOnce.Do(func() { s.counts = s.computeCounts() })
	c := s.counts
	c.TAs = slices.Clone(c.TAs)
	return c
}

func (s *Set) computeCounts() Counts {
	c := Counts{Total: Count{VRPs: len(s.vrps), ASPAs: len(s.aspas), RouterKeys: len(s.keys)}}
	byTA := make(map[string]*Count)
	// seen collects the trust anchors already credited for one item, so a
	// VRP that two ROAs under the same TA yield counts once there.
	var seen []string
	credit := func(srcs []*Source, field func(*Count) *int) {
		seen = seen[:0]
		for _, src := range srcs {
			if src == nil || slices.Contains(seen, src.TA) {
				continue
			}
			seen = append(seen, src.TA)
			n := byTA[src.TA]
			if n == nil {
				n = new(Count)
				byTA[src.TA] = n
			}
			*field(n)++
		}
	}
	for _, srcs := range s.vrpSources {
		credit(srcs, func(c *Count) *int { return &c.VRPs })
	}
	for _, srcs := range s.aspaSrc {
		credit(srcs, func(c *Count) *int { return &c.ASPAs })
	}
	for _, srcs := range s.keySources {
		credit(srcs, func(c *Count) *int { return &c.RouterKeys })
	}
	for ta, n := range byTA {
		c.TAs = append(c.TAs, TACount{TA: ta, Count: *n})
	}
	slices.SortFunc(c.TAs, func(a, b TACount) int { return strings.Compare(a.TA, b.TA) })
	return c
}

package payload

import (
	"cmp"
	"slices"
)

// Delta is what changed between two Sets, in the terms RTR uses for a
// Serial Notify (RFC 8210 §5.2, and its version 2 draft for ASPA): the
// items to announce and the items to withdraw. Every slice is sorted in
// the order of the Set it came from and holds no duplicates.
//
// An ASPA is keyed by its customer: a customer new in the later set, or
// one whose provider list changed, is announced with its full new list,
// which replaces whatever the router held; a customer gone from the later
// set is withdrawn by its AS number alone.
//
// A Delta may share memory with the Sets it was computed from, which are
// immutable; do not modify its slices.
type Delta struct {
	AnnouncedVRPs  []VRP
	WithdrawnVRPs  []VRP
	AnnouncedKeys  []RouterKey
	WithdrawnKeys  []RouterKey
	AnnouncedASPAs []ASPA
	WithdrawnASPAs []uint32 // customer ASes
}

// Compute returns the Delta that turns from into to. A nil Set counts as
// empty, so Compute(nil, s) announces everything s holds.
func Compute(from, to *Set) *Delta {
	fromVRPs, fromKeys, fromASPAs := from.lists()
	toVRPs, toKeys, toASPAs := to.lists()
	d := &Delta{}
	d.AnnouncedVRPs, d.WithdrawnVRPs = mergeDiff(fromVRPs, toVRPs, VRP.Compare)
	d.AnnouncedKeys, d.WithdrawnKeys = mergeDiff(fromKeys, toKeys, RouterKey.Compare)
	d.AnnouncedASPAs, d.WithdrawnASPAs = diffASPAs(fromASPAs, toASPAs)
	return d
}

func (s *Set) lists() ([]VRP, []RouterKey, []ASPA) {
	if s == nil {
		return nil, nil, nil
	}
	return s.vrps, s.keys, s.aspas
}

// Empty reports whether d changes nothing, in which case no new serial is
// needed.
func (d *Delta) Empty() bool {
	return len(d.AnnouncedVRPs) == 0 && len(d.WithdrawnVRPs) == 0 &&
		len(d.AnnouncedKeys) == 0 && len(d.WithdrawnKeys) == 0 &&
		len(d.AnnouncedASPAs) == 0 && len(d.WithdrawnASPAs) == 0
}

// mergeDiff walks two sorted, duplicate-free slices side by side and
// returns what only to holds (added) and what only from holds (removed).
func mergeDiff[T any](from, to []T, compare func(T, T) int) (added, removed []T) {
	// A first or last set is the common big case (a restart, a reset); the
	// sets are immutable, so the delta can share their slices.
	if len(from) == 0 {
		return nilIfEmpty(to), nil
	}
	if len(to) == 0 {
		return nil, nilIfEmpty(from)
	}
	i, j := 0, 0
	for i < len(from) && j < len(to) {
		switch c := compare(from[i], to[j]); {
		case c < 0:
			removed = append(removed, from[i])
			i++
		case c > 0:
			added = append(added, to[j])
			j++
		default:
			i++
			j++
		}
	}
	removed = append(removed, from[i:]...)
	added = append(added, to[j:]...)
	return added, removed
}

func diffASPAs(from, to []ASPA) (announced []ASPA, withdrawn []uint32) {
	i, j := 0, 0
	for i < len(from) || j < len(to) {
		var c int
		switch {
		case i == len(from):
			c = 1
		case j == len(to):
			c = -1
		default:
			c = cmp.Compare(from[i].Customer, to[j].Customer)
		}
		switch {
		case c < 0:
			withdrawn = append(withdrawn, from[i].Customer)
			i++
		case c > 0:
			announced = append(announced, to[j])
			j++
		default:
			if !slices.Equal(from[i].Providers, to[j].Providers) {
				announced = append(announced, to[j])
			}
			i++
			j++
		}
	}
	return announced, withdrawn
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

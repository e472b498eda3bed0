package rtrfast

import (
	"cmp"
	"slices"

	"github.com/rovd/rovd/engine/payload"
)

// changes is what a router must do to get from one serial to a later
// one: the minimal set of announcements and withdrawals (RFC 8210 §5.3),
// restricted to what the server sends at all (sendable items, router keys
// and ASPAs only when enabled). The slices are in payload order and
// never modified once built; they may share memory with payload sets.
type changes struct {
	annV, wdrV []payload.VRP
	annK, wdrK []payload.RouterKey
	aspas      []aspaChange // by customer
}

// aspaChange is one customer whose ASPA differs between two serials: its
// provider list on the wire before and after, nil where the router holds
// none. An ASPA is keyed by its customer (draft-8210bis §5.12), so a
// change is an announcement of after, or a withdrawal when after is nil.
type aspaChange struct {
	customer      uint32
	before, after []uint32
}

func (c *changes) empty() bool {
	return len(c.annV)+len(c.wdrV)+len(c.annK)+len(c.wdrK)+len(c.aspas) == 0
}

// filter is the part of the configuration that decides what is sent.
type filter struct {
	aspa, bgpsec bool
}

// sendableVRP reports whether v fits an IPv4 or IPv6 Prefix PDU.
func sendableVRP(v payload.VRP) bool {
	if !v.Prefix.IsValid() {
		return false
	}
	bits := v.Prefix.Addr().BitLen()
	return int(v.MaxLength) <= bits && int(v.MaxLength) >= v.Prefix.Bits()
}

// sendableKey reports whether k fits a Router Key PDU.
func sendableKey(k payload.RouterKey) bool {
	return len(k.SPKI) > 0 && routerKeyFixed+len(k.SPKI) <= MaxPDUSize
}

// maxProviders is the most providers one ASPA PDU can carry within
// MaxPDUSize.
const maxProviders = (MaxPDUSize - aspaFixed) / 4

// wireProviders returns the provider list a's ASPA PDU carries, or nil
// if it cannot be sent. draft-8210bis §5.12 forbids AS 0 beside other
// providers, so it is dropped there (an ASPA listing only AS 0 keeps it:
// it says the customer has no providers); an empty list, or one too long
// for a PDU, cannot be announced.
func wireProviders(a payload.ASPA) []uint32 {
	p := a.Providers
	if len(p) > 1 && p[0] == 0 {
		p = p[1:]
	}
	if len(p) == 0 || len(p) > maxProviders {
		return nil
	}
	return p
}

// changesFrom turns a payload.Delta between the sets from and to into
// the changes a router sees.
func (f filter) changesFrom(d *payload.Delta, from *payload.Set) *changes {
	c := &changes{
		annV: keep(d.AnnouncedVRPs, sendableVRP),
		wdrV: keep(d.WithdrawnVRPs, sendableVRP),
	}
	if f.bgpsec {
		c.annK = keep(d.AnnouncedKeys, sendableKey)
		c.wdrK = keep(d.WithdrawnKeys, sendableKey)
	}
	if f.aspa {
		var old []payload.ASPA
		if from != nil {
			old = from.ASPAs()
		}
		before := func(customer uint32) []uint32 {
			i, ok := slices.BinarySearchFunc(old, customer, func(a payload.ASPA, c uint32) int { return cmp.Compare(a.Customer, c) })
			if !ok {
				return nil
			}
			return wireProviders(old[i])
		}
		// Announced and withdrawn customers are disjoint and sorted:
		// merge them into one list by customer.
		ann, wdr := d.AnnouncedASPAs, d.WithdrawnASPAs
		for len(ann) > 0 || len(wdr) > 0 {
			var ch aspaChange
			if len(wdr) == 0 || (len(ann) > 0 && ann[0].Customer < wdr[0]) {
				ch = aspaChange{customer: ann[0].Customer, before: before(ann[0].Customer), after: wireProviders(ann[0])}
				ann = ann[1:]
			} else {
				ch = aspaChange{customer: wdr[0], before: before(wdr[0])}
				wdr = wdr[1:]
			}
			// A change that the wire cannot tell apart (AS 0 dropped, an
			// unsendable list replaced by another) is no change.
			if !slices.Equal(ch.before, ch.after) {
				c.aspas = append(c.aspas, ch)
			}
		}
	}
	return c
}

// keep returns the items of s for which ok holds; s itself when all do.
func keep[T any](s []T, ok func(T) bool) []T {
	for i, v := range s {
		if !ok(v) {
			out := slices.Clone(s[:i])
			for _, w := range s[i+1:] {
				if ok(w) {
					out = append(out, w)
				}
			}
			return out
		}
	}
	return s
}

// compose returns the changes from a's start to b's end, where a ends at
// the serial b starts from. The result is again minimal: an item
// announced by one and withdrawn by the other cancels out (RFC 8210
// §5.3: changes between serials must be merged).
func compose(a, b *changes) *changes {
	return &changes{
		annV:  union(subtract(a.annV, b.wdrV, payload.VRP.Compare), subtract(b.annV, a.wdrV, payload.VRP.Compare), payload.VRP.Compare),
		wdrV:  union(subtract(a.wdrV, b.annV, payload.VRP.Compare), subtract(b.wdrV, a.annV, payload.VRP.Compare), payload.VRP.Compare),
		annK:  union(subtract(a.annK, b.wdrK, payload.RouterKey.Compare), subtract(b.annK, a.wdrK, payload.RouterKey.Compare), payload.RouterKey.Compare),
		wdrK:  union(subtract(a.wdrK, b.annK, payload.RouterKey.Compare), subtract(b.wdrK, a.annK, payload.RouterKey.Compare), payload.RouterKey.Compare),
		aspas: composeASPAs(a.aspas, b.aspas),
	}
}

// subtract returns the items of the sorted x that the sorted y lacks.
func subtract[T any](x, y []T, compare func(T, T) int) []T {
	if len(x) == 0 || len(y) == 0 {
		return x
	}
	var out []T
	j := 0
	for _, v := range x {
		for j < len(y) && compare(y[j], v) < 0 {
			j++
		}
		if j < len(y) && compare(y[j], v) == 0 {
			continue
		}
		out = append(out, v)
	}
	return out
}

// union merges the sorted, disjoint x and y.
func union[T any](x, y []T, compare func(T, T) int) []T {
	if len(x) == 0 {
		return y
	}
	if len(y) == 0 {
		return x
	}
	out := make([]T, 0, len(x)+len(y))
	for len(x) > 0 && len(y) > 0 {
		if compare(x[0], y[0]) < 0 {
			out = append(out, x[0])
			x = x[1:]
		} else {
			out = append(out, y[0])
			y = y[1:]
		}
	}
	out = append(out, x...)
	return append(out, y...)
}

func composeASPAs(a, b []aspaChange) []aspaChange {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]aspaChange, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].customer < b[0].customer):
			out = append(out, a[0])
			a = a[1:]
		case len(a) == 0 || b[0].customer < a[0].customer:
			out = append(out, b[0])
			b = b[1:]
		default:
			ch := aspaChange{customer: a[0].customer, before: a[0].before, after: b[0].after}
			if !slices.Equal(ch.before, ch.after) {
				out = append(out, ch)
			}
			a, b = a[1:], b[1:]
		}
	}
	return out
}

// fullChanges returns the changes from nothing to s: everything
// sendable, announced.
func (f filter) fullChanges(s *payload.Set) *changes {
	if s == nil {
		return &changes{}
	}
	c := &changes{annV: keep(s.VRPs(), sendableVRP)}
	if f.bgpsec {
		c.annK = keep(s.RouterKeys(), sendableKey)
	}
	if f.aspa {
		for _, a := range s.ASPAs() {
			if p := wireProviders(a); p != nil {
				c.aspas = append(c.aspas, aspaChange{customer: a.Customer, after: p})
			}
		}
	}
	return c
}

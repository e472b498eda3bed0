package rtrfast

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/rovd/rovd/engine/payload"
)

// SetInitialSerial makes s's first Publish use serial n, to test the
// wrap-around.
func SetInitialSerial(s *Server, n Serial) { s.initialSerial = n }

// UseAllVersions makes Publish build every version eagerly, as it does
// once routers of each version have connected.
func UseAllVersions(s *Server) { s.used.Store(1<<versions - 1) }

// Table is what a router holds after applying payload PDUs: the model
// the tests check the server's output against.
type Table struct {
	VRPs  map[payload.VRP]bool
	Keys  map[string]payload.RouterKey
	ASPAs map[uint32][]uint32
}

func NewTable() *Table {
	return &Table{VRPs: map[payload.VRP]bool{}, Keys: map[string]payload.RouterKey{}, ASPAs: map[uint32][]uint32{}}
}

func keyID(asn uint32, ski [20]byte, spki []byte) string {
	return fmt.Sprintf("%d/%x/%x", asn, ski, spki)
}

// Apply applies payload PDUs as a router does, failing on what a router
// reports as an error: a duplicate announcement, the withdrawal of an
// unknown record, an out-of-order PDU (draft-8210bis §11.2).
func (t *Table) Apply(pdus []PDU) error {
	var prev *PDU
	for i := range pdus {
		p := &pdus[i]
		if prev != nil && !inOrder(prev, p) {
			return fmt.Errorf("PDU %d (%s) out of order after %s", i, describe(p), describe(prev))
		}
		prev = p
		switch p.Type {
		case TypeIPv4Prefix, TypeIPv6Prefix:
			v := payload.VRP{ASN: p.ASN, Prefix: p.Prefix, MaxLength: p.MaxLength}
			if p.Announce() == t.VRPs[v] {
				return fmt.Errorf("PDU %d: %s: duplicate announcement or unknown withdrawal", i, describe(p))
			}
			if p.Announce() {
				t.VRPs[v] = true
			} else {
				delete(t.VRPs, v)
			}
		case TypeRouterKey:
			id := keyID(p.ASN, p.SKI, p.SPKI)
			_, have := t.Keys[id]
			if p.Announce() == have {
				return fmt.Errorf("PDU %d: %s: duplicate announcement or unknown withdrawal", i, describe(p))
			}
			if p.Announce() {
				t.Keys[id] = payload.RouterKey{ASN: p.ASN, SKI: p.SKI, SPKI: slices.Clone(p.SPKI)}
			} else {
				delete(t.Keys, id)
			}
		case TypeASPA:
			_, have := t.ASPAs[p.ASN]
			if !p.Announce() {
				if !have {
					return fmt.Errorf("PDU %d: withdrawal of unknown ASPA %d", i, p.ASN)
				}
				delete(t.ASPAs, p.ASN)
				continue
			}
			// An announcement replaces the customer's ASPA (§5.12).
			t.ASPAs[p.ASN] = p.Providers
		default:
			return fmt.Errorf("PDU %d: %s is not a payload PDU", i, p.Type)
		}
	}
	return nil
}

func describe(p *PDU) string {
	switch p.Type {
	case TypeIPv4Prefix, TypeIPv6Prefix:
		return fmt.Sprintf("%s flags %d %s-%d AS%d", p.Type, p.Flags, p.Prefix, p.MaxLength, p.ASN)
	case TypeASPA:
		return fmt.Sprintf("ASPA flags %d AS%d %v", p.Flags, p.ASN, p.Providers)
	}
	return fmt.Sprintf("%s flags %d AS%d", p.Type, p.Flags, p.ASN)
}

// inOrder reports whether b may follow a in a response (draft-8210bis
// §11.2): by type, announcements first, then the order of each type.
func inOrder(a, b *PDU) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if a.Announce() != b.Announce() {
		return a.Announce()
	}
	var c int
	switch a.Type {
	case TypeIPv4Prefix, TypeIPv6Prefix:
		c = compareWire(payload.VRP{ASN: a.ASN, Prefix: a.Prefix, MaxLength: a.MaxLength},
			payload.VRP{ASN: b.ASN, Prefix: b.Prefix, MaxLength: b.MaxLength})
		if a.Announce() {
			c = -c
		}
	case TypeRouterKey:
		c = compareKeyWire(payload.RouterKey{ASN: a.ASN, SKI: a.SKI, SPKI: a.SPKI}, payload.RouterKey{ASN: b.ASN, SKI: b.SKI, SPKI: b.SPKI})
	case TypeASPA:
		c = int(int64(a.ASN) - int64(b.ASN))
	}
	return c < 0
}

// TableOf is the table a router of the given version holds once synced
// to set, under the server's rules for what is sent.
func TableOf(set *payload.Set, version uint8, aspa, bgpsec bool) *Table {
	t := NewTable()
	if set == nil {
		return t
	}
	for _, v := range set.VRPs() {
		if sendableVRP(v) {
			t.VRPs[v] = true
		}
	}
	if bgpsec && version >= 1 {
		for _, k := range set.RouterKeys() {
			if sendableKey(k) {
				t.Keys[keyID(k.ASN, k.SKI, k.SPKI)] = k
			}
		}
	}
	if aspa && version >= 2 {
		for _, a := range set.ASPAs() {
			if p := wireProviders(a); p != nil {
				t.ASPAs[a.Customer] = p
			}
		}
	}
	return t
}

// Equal reports whether t and o hold the same records, and describes a
// difference.
func (t *Table) Equal(o *Table) (bool, string) {
	for v := range t.VRPs {
		if !o.VRPs[v] {
			return false, fmt.Sprintf("VRP %v only in the first table", v)
		}
	}
	for v := range o.VRPs {
		if !t.VRPs[v] {
			return false, fmt.Sprintf("VRP %v only in the second table", v)
		}
	}
	for id := range t.Keys {
		if _, ok := o.Keys[id]; !ok {
			return false, "router key " + id + " only in the first table"
		}
	}
	for id := range o.Keys {
		if _, ok := t.Keys[id]; !ok {
			return false, "router key " + id + " only in the second table"
		}
	}
	for c, p := range t.ASPAs {
		if q, ok := o.ASPAs[c]; !ok || !slices.Equal(p, q) {
			return false, fmt.Sprintf("ASPA %d: %v against %v", c, p, q)
		}
	}
	for c := range o.ASPAs {
		if _, ok := t.ASPAs[c]; !ok {
			return false, fmt.Sprintf("ASPA %d only in the second table", c)
		}
	}
	return true, ""
}

// PrefixOf is a test shorthand.
func PrefixOf(s string) netip.Prefix { return netip.MustParsePrefix(s) }

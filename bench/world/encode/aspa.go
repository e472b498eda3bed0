package encode

import (
	"slices"
)

// ASPA describes the eContent of an AS Provider Attestation in the
// current draft-ietf-sidrops-aspa-profile: version [0] EXPLICIT INTEGER
// 1, customerASID and providers as a SEQUENCE OF ASID.
type ASPA struct {
	// Version is written as given; the profile requires 1. A nil
	// pointer writes 1, a pointer to a negative value leaves it out.
	Version   *int
	Customer  uint32
	Providers []uint32
	// Unsorted keeps providers as given instead of ascending and unique.
	Unsorted bool
}

// Encode returns the DER ASProviderAttestation. It does not drop the
// customer from the providers: that is a fault tests build on purpose.
func (a *ASPA) Encode() []byte {
	ps := slices.Clone(a.Providers)
	if !a.Unsorted {
		slices.Sort(ps)
		ps = slices.Compact(ps)
	}
	provs := make([][]byte, len(ps))
	for i, p := range ps {
		provs[i] = Uint(uint64(p))
	}
	var parts [][]byte
	switch {
	case a.Version == nil:
		parts = append(parts, Explicit(0, Integer(1)))
	case *a.Version >= 0:
		parts = append(parts, Explicit(0, Integer(int64(*a.Version))))
	}
	parts = append(parts, Uint(uint64(a.Customer)), Sequence(provs...))
	return Sequence(parts...)
}

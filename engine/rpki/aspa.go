package rpki

import (
	"errors"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// maxASPAProviders bounds an ASPA's provider list, as rpki-client does
// (MAX_ASPA_PROVIDERS).
const maxASPAProviders = 10_000

// aspaRef is the profile this package implements: the current
// draft-ietf-sidrops-aspa-profile, whose content is version 1 with a plain
// list of provider AS numbers.
const aspaRef = "draft-ietf-sidrops-aspa-profile §3"

// errOldASPAProfile explains the one incompatible earlier profile that
// real objects (and rpki-client 8.2) still use.
var errOldASPAProfile = errors.New("older ASPA profile (version 0 with address-family limits, draft-ietf-sidrops-aspa-profile-13 and earlier), not the current one: version 1 with plain provider AS numbers")

// ASPA is a decoded AS Provider Attestation.
type ASPA struct {
	SignedObject
	CustomerASID uint32
	// Providers are sorted ascending without duplicates.
	Providers []uint32

	findings
}

// Type returns TypeASPA.
func (a *ASPA) Type() Type { return TypeASPA }

// ParseASPA decodes an ASPA in the current profile: version [0] 1, the
// customer AS and a non-empty, ascending list of provider ASes that does
// not include the customer. The EE certificate holds the customer AS as
// its only resource.
func ParseASPA(data []byte, mode der.Mode) (*ASPA, error) {
	var r report
	a := new(ASPA)
	if err := parseCMS(&a.SignedObject, data, mode, oidCTASPA, &r); err != nil {
		return nil, err
	}
	if err := a.parseContent(mode, &r); err != nil {
		return nil, err
	}
	if ee := a.EE; ee != nil {
		switch {
		case ee.Resources.HasIP():
			r.inspect("certificates[0].tbsCertificate.extensions", aspaRef, "EE certificate must not carry IP resources")
		case ee.Resources.AS.Inherit:
			r.inspect("certificates[0].tbsCertificate.extensions", aspaRef, "inherit is not allowed in an ASPA's EE certificate")
		}
	}
	a.problems = r.problems
	return a, nil
}

func (a *ASPA) parseContent(mode der.Mode, r *report) error {
	const field = "asProviderAttestation"
	p := der.Parse(a.Content, mode)
	seq, err := p.Sequence()
	if err != nil {
		return decodeErr(field, aspaRef, err)
	}
	if err := p.Done(); err != nil {
		return decodeErr(field, aspaRef, err)
	}
	v, hasVersion, err := seq.OptionalExplicit(0)
	if err != nil {
		return decodeErr(field+".version", aspaRef, err)
	}
	version := int64(0)
	if hasVersion {
		el, err := v.Expect(der.TagInteger)
		if err == nil {
			version, err = el.Int64()
		}
		if err != nil {
			return decodeErr(field+".version", aspaRef, err)
		}
	}
	custEl, err := seq.Expect(der.TagInteger)
	if err != nil {
		return decodeErr(field+".customerASID", aspaRef, err)
	}
	if a.CustomerASID, err = custEl.Uint32(); err != nil {
		return decodeErr(field+".customerASID", aspaRef, err)
	}
	list, err := seq.Sequence()
	if err != nil {
		return decodeErr(field+".providers", aspaRef, err)
	}
	// The earlier profile had a SEQUENCE per provider, with an optional
	// address family limit.
	if t, err := list.PeekTag(); err == nil && t == der.TagSequence {
		return decodeErr(field, aspaRef, errOldASPAProfile)
	}
	switch {
	case !hasVersion:
		r.inspect(field+".version", aspaRef, "version missing, want 1")
	case version != 1:
		r.inspect(field+".version", aspaRef, "version %d, want 1", version)
	}
	if err := seq.Done(); err != nil {
		return decodeErr(field, aspaRef, err)
	}
	for !list.Empty() {
		if len(a.Providers) == maxASPAProviders {
			return decodeErr(field+".providers", "", errTooMany("providers", maxASPAProviders))
		}
		el, err := list.Expect(der.TagInteger)
		if err != nil {
			return decodeErr(field+".providers", aspaRef, err)
		}
		as, err := el.Uint32()
		if err != nil {
			return decodeErr(field+".providers", aspaRef, err)
		}
		if as == a.CustomerASID {
			r.inspect(field+".providers", aspaRef, "customer AS%d is also listed as a provider", as)
		}
		if n := len(a.Providers); n > 0 && a.Providers[n-1] >= as {
			r.inspect(field+".providers", aspaRef, "providers not in ascending order or repeated at AS%d", as)
		}
		a.Providers = append(a.Providers, as)
	}
	if len(a.Providers) == 0 {
		r.inspect(field+".providers", aspaRef, "no providers")
	}
	return nil
}

// Validate checks the ASPA against its issuer at time at: the CMS layer,
// the EE certificate, and that the EE certificate holds the customer AS.
func (a *ASPA) Validate(iss *Issuer, at time.Time) []Problem {
	var r report
	a.validate(iss, at, &r)
	if !a.EE.Resources.AS.Contains(a.CustomerASID) {
		r.add(Verify, "asProviderAttestation.customerASID", aspaRef, "AS%d is not in the EE certificate", a.CustomerASID)
	}
	return r.problems
}

package rpki

import (
	"errors"
	"strings"

	"github.com/rovd/rovd/engine/der"
)

// extID names the extensions RFC 6487 §4.8 allows.
type extID uint8

const (
	extBasicConstraints extID = iota
	extSKI
	extAKI
	extKeyUsage
	extEKU
	extCRLDP
	extAIA
	extSIA
	extPolicies
	extIPResources
	extASResources
	numExt
)

var extInfo = [numExt]struct {
	oid      der.OID
	name     string
	critical bool   // what RFC 6487 §4.8 requires
	ref      string // where it says so
	field    string // the full field name, filled in by init
}{
	extBasicConstraints: {oidBasicConstraints, "basicConstraints", true, "RFC 6487 §4.8.1", ""},
	extSKI:              {oidSubjectKeyID, "subjectKeyIdentifier", false, "RFC 6487 §4.8.2", ""},
	extAKI:              {oidAuthorityKeyID, "authorityKeyIdentifier", false, "RFC 6487 §4.8.3", ""},
	extKeyUsage:         {oidKeyUsage, "keyUsage", true, "RFC 6487 §4.8.4", ""},
	extEKU:              {oidExtKeyUsage, "extKeyUsage", false, "RFC 8209 §3.1.3.2", ""},
	extCRLDP:            {oidCRLDistribution, "cRLDistributionPoints", false, "RFC 6487 §4.8.6", ""},
	extAIA:              {oidAuthorityInfo, "authorityInfoAccess", false, "RFC 6487 §4.8.7", ""},
	extSIA:              {oidSubjectInfoAccess, "subjectInfoAccess", false, "RFC 6487 §4.8.8", ""},
	extPolicies:         {oidCertPolicies, "certificatePolicies", true, "RFC 6487 §4.8.9", ""},
	extIPResources:      {oidIPAddrBlocks, "ipAddrBlocks", true, "RFC 6487 §4.8.10", ""},
	extASResources:      {oidASIdentifiers, "autonomousSysIds", true, "RFC 6487 §4.8.11", ""},
}

func init() {
	for i := range extInfo {
		extInfo[i].field = "tbsCertificate.extensions." + extInfo[i].name
	}
}

// extensions holds the raw values of the known extensions of one
// certificate until they are decoded.
type extensions struct {
	present      [numExt]bool
	crit         [numExt]bool
	value        [numExt][]byte
	isCA         bool
	pathLen      bool
	bgpsecRouter bool
}

func (e *extensions) has(id extID) bool      { return e.present[id] }
func (e *extensions) critical(id extID) bool { return e.crit[id] }

// parse reads the Extensions SEQUENCE inside the [3] wrapper (RFC 5280
// §4.1.2.9): each extension at most once (§4.2), unknown critical ones
// rejected; unknown non-critical ones are ignored, except in Strict mode
// where RFC 6487 §4.8's closed list applies.
func (e *extensions) parse(wrapper *der.Parser, mode der.Mode, field string, r *report) error {
	const ref = "RFC 5280 §4.1.2.9"
	seq, err := wrapper.Sequence()
	if err != nil {
		return decodeErr(field, ref, err)
	}
	if err := wrapper.Done(); err != nil {
		return decodeErr(field, ref, err)
	}
	if seq.Empty() {
		r.inspect(field, ref, "empty extensions")
	}
	var unknown []string
	for !seq.Empty() {
		ext, err := seq.Sequence()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		oid, err := ext.OID()
		if err != nil {
			return decodeErr(field, ref, err)
		}
		critical := false
		if el, ok, err := ext.Optional(der.TagBoolean); err != nil {
			return decodeErr(field, ref, err)
		} else if ok {
			if critical, err = el.Bool(); err != nil {
				return decodeErr(field, ref, err)
			}
			if !critical && mode == der.Strict {
				r.inspect(field, "X.690 §11.5", "critical FALSE must be omitted in DER")
			}
		}
		value, err := ext.Expect(der.TagOctetString)
		if err != nil {
			return decodeErr(field, ref, err)
		}
		if err := ext.Done(); err != nil {
			return decodeErr(field, ref, err)
		}
		id := numExt
		for i := range extInfo {
			if extInfo[i].oid.Equal(oid) {
				id = extID(i)
				break
			}
		}
		if id == numExt {
			switch {
			case oid.Equal(oidIPAddrBlocksV2) || oid.Equal(oidASIdentifiersV2):
				r.inspect(field, "RFC 8360 §4", "the validation-reconsidered resource extension %s is not in use", oid)
			case critical:
				r.inspect(field, "RFC 5280 §4.2", "unknown critical extension %s", oid)
			case mode == der.Strict:
				unknown = append(unknown, oid.String())
			}
			continue
		}
		if e.present[id] {
			r.inspect(extInfo[id].field, "RFC 5280 §4.2", "extension appears twice")
			continue
		}
		e.present[id], e.crit[id], e.value[id] = true, critical, value.Content()
	}
	if len(unknown) > 0 {
		r.inspect(field, "RFC 6487 §4.8", "extensions not in the profile: %v", unknown)
	}
	return nil
}

// decodeAll decodes every present extension into c.
func (e *extensions) decodeAll(c *Certificate, mode der.Mode, field string, r *report) error {
	for id := range numExt {
		if !e.present[id] {
			continue
		}
		info := &extInfo[id]
		f := info.field
		// EKU criticality is a router certificate rule; EKU anywhere else
		// is reported on its own.
		if e.crit[id] != info.critical && id != extEKU {
			want := "critical"
			if !info.critical {
				want = "non-critical"
			}
			r.inspect(f, info.ref, "must be %s", want)
		}
		var err error
		v := e.value[id]
		switch id {
		case extBasicConstraints:
			err = e.decodeBasicConstraints(v, mode, f, r)
		case extSKI:
			c.SKI, err = decodeKeyID(v, mode)
		case extAKI:
			c.AKI, err = decodeAKI(v, mode, f, r)
		case extKeyUsage:
			c.KeyUsage, err = decodeKeyUsage(v, mode)
		case extEKU:
			err = e.decodeEKU(v, mode, f, r)
		case extCRLDP:
			c.CRLURI, err = decodeCRLDP(v, mode, f, r)
		case extAIA:
			c.AIAURI, err = decodeAIA(v, mode, f, r)
		case extSIA:
			err = c.decodeSIA(v, mode, f, r)
		case extPolicies:
			err = decodePolicies(v, mode, f, r)
		case extIPResources:
			c.Resources.IPv4, c.Resources.IPv6, err = parseIPAddrBlocks(v, mode, f, r, c.Resources.IPv4.Ranges[:0], c.Resources.IPv6.Ranges[:0])
		case extASResources:
			c.Resources.AS, err = parseASIdentifiers(v, mode, f, r, c.Resources.AS.Ranges[:0])
		}
		if err != nil {
			return decodeErr(f, info.ref, err)
		}
	}
	return nil
}

// decodeBasicConstraints: SEQUENCE { cA BOOLEAN DEFAULT FALSE,
// pathLenConstraint INTEGER OPTIONAL } (RFC 5280 §4.2.1.9).
func (e *extensions) decodeBasicConstraints(v []byte, mode der.Mode, field string, r *report) error {
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return err
	}
	if el, ok, err := seq.Optional(der.TagBoolean); err != nil {
		return err
	} else if ok {
		if e.isCA, err = el.Bool(); err != nil {
			return err
		}
		if !e.isCA && mode == der.Strict {
			r.inspect(field, "X.690 §11.5", "cA FALSE must be omitted in DER")
		}
	}
	if _, ok, err := seq.Optional(der.TagInteger); err != nil {
		return err
	} else if ok {
		e.pathLen = true
	}
	if err := seq.Done(); err != nil {
		return err
	}
	return p.Done()
}

// decodeKeyID reads the OCTET STRING of a subjectKeyIdentifier.
func decodeKeyID(v []byte, mode der.Mode) ([]byte, error) {
	p := der.Parse(v, mode)
	id, err := p.OctetString()
	if err != nil {
		return nil, err
	}
	return id, p.Done()
}

// decodeAKI reads the keyIdentifier, the only field RFC 6487 §4.8.3 allows.
func decodeAKI(v []byte, mode der.Mode, field string, r *report) ([]byte, error) {
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return nil, err
	}
	var id []byte
	if el, ok, err := seq.Optional(der.Implicit(0)); err != nil {
		return nil, err
	} else if ok {
		id = el.Content()
	} else {
		r.inspect(field, "RFC 6487 §4.8.3", "keyIdentifier missing")
	}
	if !seq.Empty() {
		r.inspect(field, "RFC 6487 §4.8.3", "authorityCertIssuer and authorityCertSerialNumber must be absent")
	}
	return id, p.Done()
}

// decodeKeyUsage reads the KeyUsage BIT STRING into a mask.
func decodeKeyUsage(v []byte, mode der.Mode) (uint16, error) {
	p := der.Parse(v, mode)
	el, err := p.Expect(der.TagBitString)
	if err != nil {
		return 0, err
	}
	bs, err := el.BitString()
	if err != nil {
		return 0, err
	}
	var mask uint16
	for i := range min(bs.Len(), 16) {
		if bs.At(i) {
			mask |= 1 << i
		}
	}
	return mask, p.Done()
}

// decodeEKU reads ExtKeyUsageSyntax; RPKI uses it only for BGPsec router
// certificates (RFC 8209 §3.1.3.2), where it must not be critical.
func (e *extensions) decodeEKU(v []byte, mode der.Mode, field string, r *report) error {
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return err
	}
	if seq.Empty() {
		r.inspect(field, "RFC 5280 §4.2.1.12", "empty extKeyUsage")
	}
	for !seq.Empty() {
		oid, err := seq.OID()
		if err != nil {
			return err
		}
		if oid.Equal(oidKPBGPsecRouter) {
			e.bgpsecRouter = true
		}
	}
	if e.bgpsecRouter && e.crit[extEKU] {
		r.inspect(field, "RFC 8209 §3.1.3.2", "extKeyUsage must not be critical")
	}
	return p.Done()
}

// decodeCRLDP returns the rsync URI of the one distribution point RFC 6487
// §4.8.6 allows: a fullName, no reasons, no cRLIssuer.
func decodeCRLDP(v []byte, mode der.Mode, field string, r *report) (string, error) {
	const ref = "RFC 6487 §4.8.6"
	p := der.Parse(v, mode)
	points, err := p.Sequence()
	if err != nil {
		return "", err
	}
	if err := p.Done(); err != nil {
		return "", err
	}
	dp, err := points.Sequence()
	if err != nil {
		return "", err
	}
	if !points.Empty() {
		r.inspect(field, ref, "more than one distribution point")
	}
	name, ok, err := dp.OptionalExplicit(0)
	if err != nil {
		return "", err
	}
	if !ok {
		r.inspect(field, ref, "distributionPoint missing")
		return "", nil
	}
	if !dp.Empty() {
		r.inspect(field, ref, "reasons and cRLIssuer must be absent")
	}
	full, err := name.Expect(der.Explicit(0))
	if err != nil {
		if errors.Is(err, der.ErrUnexpectedTag) {
			r.inspect(field, ref, "distribution point is not a fullName")
			return "", nil
		}
		return "", err
	}
	names, err := full.Children()
	if err != nil {
		return "", err
	}
	uri, err := firstURI(&names, mode, "rsync://", field, ref, r)
	if err != nil {
		return "", err
	}
	if uri == "" {
		r.inspect(field, ref, "no rsync URI")
	}
	return uri, name.Done()
}

// firstURI reads GeneralNames and returns the first valid URI with the
// given scheme. Other URIs are skipped; other name forms are reported.
func firstURI(names *der.Parser, mode der.Mode, scheme, field, ref string, r *report) (string, error) {
	found := ""
	for !names.Empty() {
		gn, err := names.Next()
		if err != nil {
			return "", err
		}
		if gn.Tag() != der.Implicit(6) {
			r.inspect(field, ref, "general name %s is not a URI", gn.Tag())
			continue
		}
		uri, err := checkURI(gn.Content())
		if err != nil {
			r.inspect(field, ref, "%v", err)
			continue
		}
		if found == "" && hasScheme(uri, scheme) {
			found = uri
		}
	}
	return found, nil
}

// decodeAIA returns the rsync caIssuers URI (RFC 6487 §4.8.7).
func decodeAIA(v []byte, mode der.Mode, field string, r *report) (string, error) {
	const ref = "RFC 6487 §4.8.7"
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return "", err
	}
	found := ""
	for !seq.Empty() {
		method, loc, err := accessDescription(&seq)
		if err != nil {
			return "", err
		}
		if !method.Equal(oidCAIssuers) {
			r.inspect(field, ref, "unexpected access method %s", method)
			continue
		}
		if loc.Tag() != der.Implicit(6) {
			r.inspect(field, ref, "caIssuers is not a URI")
			continue
		}
		uri, err := checkURI(loc.Content())
		if err != nil {
			r.inspect(field, ref, "%v", err)
			continue
		}
		if found == "" && hasScheme(uri, "rsync://") {
			found = uri
		}
	}
	if found == "" {
		r.inspect(field, ref, "no rsync caIssuers URI")
	}
	return found, p.Done()
}

// accessDescription reads SEQUENCE { accessMethod OID, accessLocation GeneralName }.
func accessDescription(p *der.Parser) (der.OID, der.Element, error) {
	ad, err := p.Sequence()
	if err != nil {
		return nil, der.Element{}, err
	}
	method, err := ad.OID()
	if err != nil {
		return nil, der.Element{}, err
	}
	loc, err := ad.Next()
	if err != nil {
		return nil, der.Element{}, err
	}
	return method, loc, ad.Done()
}

// decodeSIA reads the subject information access (RFC 6487 §4.8.8, RFC
// 8182 §3.2): for each method the first URI of the right scheme counts,
// others are ignored as the RFC permits.
func (c *Certificate) decodeSIA(v []byte, mode der.Mode, field string, r *report) error {
	const ref = "RFC 6487 §4.8.8"
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return err
	}
	for !seq.Empty() {
		method, loc, err := accessDescription(&seq)
		if err != nil {
			return err
		}
		var dst *string
		scheme := "rsync://"
		switch {
		case method.Equal(oidCARepository):
			dst = &c.CARepository
		case method.Equal(oidRPKIManifest):
			dst = &c.Manifest
		case method.Equal(oidSignedObject):
			dst = &c.SignedObject
		case method.Equal(oidRPKINotify):
			dst, scheme = &c.Notify, "https://"
		default:
			continue
		}
		if loc.Tag() != der.Implicit(6) {
			r.inspect(field, ref, "access location is not a URI")
			continue
		}
		uri, err := checkURI(loc.Content())
		if err != nil {
			r.inspect(field, ref, "%v", err)
			continue
		}
		if !hasScheme(uri, scheme) {
			if scheme == "https://" {
				r.inspect(field, "RFC 8182 §3.2", "rpkiNotify %s is not an https URI", uri)
			}
			continue
		}
		if dst == &c.CARepository && !strings.HasSuffix(uri, "/") {
			// A directory, whether or not the CA wrote the slash.
			uri += "/"
		}
		if *dst == "" {
			*dst = uri
		}
	}
	return p.Done()
}

// decodePolicies checks that the only policy is id-cp-ipAddr-asNumber
// (RFC 6487 §4.8.9) with at most one CPS qualifier (RFC 7318 §2).
func decodePolicies(v []byte, mode der.Mode, field string, r *report) error {
	p := der.Parse(v, mode)
	seq, err := p.Sequence()
	if err != nil {
		return err
	}
	n := 0
	for !seq.Empty() {
		info, err := seq.Sequence()
		if err != nil {
			return err
		}
		n++
		oid, err := info.OID()
		if err != nil {
			return err
		}
		switch {
		case oid.Equal(oidPolicyRPKIv2):
			r.inspect(field, "RFC 8360 §4", "the validation-reconsidered policy is not in use; want id-cp-ipAddr-asNumber")
		case !oid.Equal(oidPolicyRPKI):
			r.inspect(field, "RFC 6487 §4.8.9", "policy %s, want id-cp-ipAddr-asNumber", oid)
		}
		if quals, ok, err := info.Optional(der.TagSequence); err != nil {
			return err
		} else if ok {
			if err := checkQualifiers(quals, field, r); err != nil {
				return err
			}
		}
		if err := info.Done(); err != nil {
			return err
		}
	}
	if n != 1 {
		r.inspect(field, "RFC 6487 §4.8.9", "want exactly one policy, have %d", n)
	}
	return p.Done()
}

func checkQualifiers(quals der.Element, field string, r *report) error {
	qp, err := quals.Children()
	if err != nil {
		return err
	}
	n := 0
	for !qp.Empty() {
		q, err := qp.Sequence()
		if err != nil {
			return err
		}
		n++
		id, err := q.OID()
		if err != nil {
			return err
		}
		if !id.Equal(oidQualifierCPS) {
			r.inspect(field, "RFC 7318 §2", "policy qualifier %s, only CPS is allowed", id)
		}
	}
	if n != 1 {
		r.inspect(field, "RFC 7318 §2", "want 1 policy qualifier, got %d", n)
	}
	return nil
}

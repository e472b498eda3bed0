package world

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/rovd/rovd/bench/world/encode"
)

// Validity windows relative to Now (and, for a mutated publication point,
// to the time of the mutation).
const (
	certBefore   = 24 * time.Hour       // CA certificates start a day back
	certLifetime = 365 * 24 * time.Hour // and end a year ahead
	updateBefore = time.Hour            // manifests and CRLs: thisUpdate an hour back
	updateAfter  = 24 * time.Hour       // nextUpdate a day ahead
	// Faults that put a time in the past keep every window inside the
	// issuing CA's validity (which starts certBefore back), so that only
	// the intended rule fires.
	staleThis = 20 * time.Hour // stale manifests and CRLs: thisUpdate this far back
	staleNext = 2 * time.Hour  // and nextUpdate this far back
)

// keyInfo is a key with its encodings, computed once.
type keyInfo struct {
	signer crypto.Signer
	pub    crypto.PublicKey
	spki   []byte
	ski    []byte
}

func newKeyInfo(k crypto.Signer) (keyInfo, error) {
	spki, err := encode.SubjectPublicKeyInfo(k.Public())
	if err != nil {
		return keyInfo{}, err
	}
	ski, err := encode.KeyIdentifier(k.Public())
	if err != nil {
		return keyInfo{}, err
	}
	return keyInfo{k, k.Public(), spki, ski}, nil
}

// builder signs the objects of a plan.
type builder struct {
	p     *plan
	ca    []keyInfo // by CA index
	ee    []keyInfo // RSA pool for signed objects
	rkeys []keyInfo // P-256 pool for router certificates
}

func newBuilder(p *plan, caKeys []*rsa.PrivateKey) (*builder, error) {
	eeRSA, eeEC, err := eeKeys()
	if err != nil {
		return nil, err
	}
	b := &builder{p: p}
	for _, k := range caKeys {
		ki, err := newKeyInfo(k)
		if err != nil {
			return nil, err
		}
		b.ca = append(b.ca, ki)
	}
	for _, k := range eeRSA {
		ki, err := newKeyInfo(k)
		if err != nil {
			return nil, err
		}
		b.ee = append(b.ee, ki)
	}
	for _, k := range eeEC {
		ki, err := newKeyInfo(k)
		if err != nil {
			return nil, err
		}
		b.rkeys = append(b.rkeys, ki)
	}
	return b, nil
}

// keyDigest identifies the CA keys a world was built with.
func (b *builder) keyDigest() string {
	h := sha256.New()
	for _, k := range b.ca {
		h.Write(k.ski)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// serial numbers are unique per issuer: the generation that issued the
// object in the high bits, its place in the publication point below.
func serial(gen, seq int) *big.Int {
	return new(big.Int).SetUint64(uint64(gen)<<32 | uint64(seq+1))
}

// fileSpec is one file of a publication point, built on demand.
type fileSpec struct {
	name string
	kind Kind
	seq  int
	// publish puts the file into the repository; listed puts it on the
	// manifest, with a wrong hash if wrongHash.
	publish, listed, wrongHash bool
	build                      func() ([]byte, error)
}

// resourcesOf returns the RFC 3779 resources of a CA certificate.
func resourcesOf(n *caNode) (*encode.IPResources, *encode.ASResources) {
	ip := &encode.IPResources{}
	if n.v4.IsValid() {
		ip.Prefixes = append(ip.Prefixes, n.v4)
	}
	if n.v6.IsValid() {
		ip.Prefixes = append(ip.Prefixes, n.v6)
	}
	var as *encode.ASResources
	if n.as.ok {
		as = &encode.ASResources{Ranges: []encode.ASRange{{Min: uint32(n.as.lo), Max: uint32(n.as.hi)}}}
	}
	return ip, as
}

// caCert describes the certificate of CA n, issued by its parent or, for
// a trust anchor, by itself.
func (b *builder) caCert(n *caNode, seq int) *encode.Cert {
	p := b.p
	now := p.cfg.Now
	ip, as := resourcesOf(n)
	c := &encode.Cert{
		Serial:       serial(0, seq),
		Subject:      encode.Name{CommonName: n.name},
		NotBefore:    now.Add(-certBefore),
		NotAfter:     now.Add(certLifetime),
		PublicKey:    b.ca[n.idx].pub,
		SPKI:         b.ca[n.idx].spki,
		SKI:          b.ca[n.idx].ski,
		CA:           true,
		CARepository: n.dirURI(p),
		Manifest:     n.mftURI(p),
		Notify:       n.repository(p).NotifyURI(),
		IP:           ip,
		AS:           as,
	}
	if n.parent < 0 {
		c.Issuer = c.Subject
		return c
	}
	parent := p.cas[n.parent]
	c.Issuer = encode.Name{CommonName: parent.name}
	c.AKI = b.ca[parent.idx].ski
	c.CRLURI = parent.crlURI(p)
	c.CAIssuers = parent.certURI(p)
	switch n.fault {
	case FaultCABadSignature:
		c.CorruptSignature = true
	case FaultCAExpired:
		c.NotBefore, c.NotAfter = now.Add(-certLifetime), now.Add(-certBefore)
	case FaultCAOverclaim:
		// Add the sibling of the parent's block: outside the parent.
		pv := parent.v4
		if !pv.IsValid() {
			pv = parent.v6
		}
		c.IP.Prefixes = append(c.IP.Prefixes, flipBit(pv, pv.Bits()-1))
	}
	return c
}

// eeCert describes the EE certificate of a signed object or router key.
func (b *builder) eeCert(n *caNode, key keyInfo, seq, gen int, issued time.Time, uri string) *encode.Cert {
	p := b.p
	h := sha1.Sum([]byte(uri + "#" + fmt.Sprint(gen)))
	return &encode.Cert{
		Serial:       serial(gen, seq),
		Issuer:       encode.Name{CommonName: n.name},
		Subject:      encode.Name{CommonName: hex.EncodeToString(h[:])},
		NotBefore:    issued.Add(-updateBefore),
		NotAfter:     p.cfg.Now.Add(certLifetime),
		PublicKey:    key.pub,
		SPKI:         key.spki,
		SKI:          key.ski,
		AKI:          b.ca[n.idx].ski,
		CRLURI:       n.crlURI(p),
		CAIssuers:    n.certURI(p),
		SignedObject: uri,
	}
}

// signed wraps content into a signed object with the EE certificate ee.
func (b *builder) signed(n *caNode, ct encode.OID, content []byte, ee *encode.Cert, key keyInfo, corruptCMS bool) ([]byte, error) {
	eeDER, err := ee.Encode(b.ca[n.idx].signer)
	if err != nil {
		return nil, err
	}
	so := &encode.SignedObject{
		ContentType:      ct,
		Content:          content,
		EECert:           eeDER,
		SKI:              key.ski,
		SigningTime:      ee.NotBefore,
		CorruptSignature: corruptCMS,
	}
	return so.Encode(key.signer)
}

// eeKey picks the EE key of an object: the pool is small and keys repeat,
// but every EE certificate is still its own.
func (b *builder) eeKey(n *caNode, seq int) keyInfo {
	return b.ee[(n.idx*7+seq)%len(b.ee)]
}

func (b *builder) roa(n *caNode, r *roaPlan, seq int, uri string) ([]byte, error) {
	key := b.eeKey(n, seq)
	ee := b.eeCert(n, key, seq, r.gen, r.issued, uri)
	content := &encode.ROA{ASID: r.asn, Prefixes: r.prefixes}
	ee.IP = content.Resources()
	corruptCMS := false
	now := b.p.cfg.Now
	switch r.fault {
	case FaultROABadCMSSignature:
		corruptCMS = true
	case FaultROAEEBadSignature:
		ee.CorruptSignature = true
	case FaultROAEEExpired:
		ee.NotBefore, ee.NotAfter = now.Add(-staleThis), now.Add(-staleNext)
	case FaultROAEENotYetValid:
		ee.NotBefore = now.Add(24 * time.Hour)
	case FaultROAPrefixNotInEE:
		ee.IP = &encode.IPResources{Prefixes: []netip.Prefix{r.prefixes[0].Prefix}}
	case FaultROAEEInherit:
		ee.IP = encode.InheritIP()
	}
	return b.signed(n, encode.OIDCTROA, content.Encode(), ee, key, corruptCMS)
}

func (b *builder) aspa(n *caNode, a *aspaPlan, seq int, uri string) ([]byte, error) {
	key := b.eeKey(n, seq)
	ee := b.eeCert(n, key, seq, 0, b.p.cfg.Now, uri)
	ee.AS = encode.ASNs(a.customer)
	content := &encode.ASPA{Customer: a.customer, Providers: a.providers}
	return b.signed(n, encode.OIDCTASPA, content.Encode(), ee, key, false)
}

func (b *builder) gbr(n *caNode, g *gbrPlan, seq int, uri string) ([]byte, error) {
	key := b.eeKey(n, seq)
	ee := b.eeCert(n, key, seq, 0, b.p.cfg.Now, uri)
	ee.IP, ee.AS = encode.InheritIP(), encode.InheritAS()
	card := &encode.VCard{
		FullName: "RPKI operations " + n.name,
		Org:      "rovd-bench test world",
		Address:  ";;1 Test Street;Testville;;0000;ZZ",
		Tel:      "tel:+1-555-0100",
		Email:    "rpki@" + n.name + ".example",
	}
	return b.signed(n, encode.OIDCTGBR, card.Encode(), ee, key, g.fault == FaultGBRBadSignature)
}

func (b *builder) router(n *caNode, rt *routerPlan, seq int, uri string) ([]byte, error) {
	key := b.rkeys[rt.key%len(b.rkeys)]
	if rt.fault == FaultRouterKeyNotP256 {
		// RFC 8208 §3.1 allows only ECDSA P-256 router keys.
		key = b.ee[rt.key%len(b.ee)]
	}
	c := b.eeCert(n, key, seq, 0, b.p.cfg.Now, "")
	c.Subject = encode.RouterSubject(rt.asn, "")
	c.MakeRouter(rt.asn)
	return c.Encode(b.ca[n.idx].signer)
}

// routerKey returns the router key a valid router certificate carries.
func (b *builder) routerKey(n *caNode, rt *routerPlan) RouterKey {
	key := b.rkeys[rt.key%len(b.rkeys)]
	return RouterKey{ASN: rt.asn, SKI: hexUpper(key.ski), SPKI: base64Std(key.spki), TA: b.p.cas[n.ta].name}
}

func (b *builder) crl(n *caNode, revoked []*big.Int) ([]byte, error) {
	issued := n.issued
	l := &encode.CRL{
		Issuer:     encode.Name{CommonName: n.name},
		ThisUpdate: issued.Add(-updateBefore),
		NextUpdate: issued.Add(updateAfter),
		Number:     big.NewInt(int64(n.gen + 1)),
		AKI:        b.ca[n.idx].ski,
	}
	switch n.fault {
	case FaultCRLStale:
		l.ThisUpdate, l.NextUpdate = issued.Add(-staleThis), issued.Add(-staleNext)
	case FaultCRLBadSignature:
		l.CorruptSignature = true
	}
	for _, s := range revoked {
		l.Revoked = append(l.Revoked, encode.Revoked{Serial: s, Time: l.ThisUpdate})
	}
	return l.Encode(b.ca[n.idx].signer)
}

func (b *builder) manifest(n *caNode, seq int, files []encode.FileAndHash) ([]byte, error) {
	issued := n.issued
	m := &encode.Manifest{
		Number:     big.NewInt(int64(n.gen + 1)),
		ThisUpdate: issued.Add(-updateBefore),
		NextUpdate: issued.Add(updateAfter),
		Files:      files,
	}
	key := b.eeKey(n, seq)
	ee := b.eeCert(n, key, seq, n.gen, issued, n.mftURI(b.p))
	ee.IP, ee.AS = encode.InheritIP(), encode.InheritAS()
	// The EE certificate spans the manifest's update window (RFC 9286
	// §5.1). A stale manifest keeps a valid EE certificate, so that only
	// the staleness rule fires and stale=warn can accept it.
	ee.NotBefore, ee.NotAfter = m.ThisUpdate, m.NextUpdate
	if n.fault == FaultManifestStale {
		m.ThisUpdate, m.NextUpdate = issued.Add(-staleThis), issued.Add(-staleNext)
		ee.NotBefore, ee.NotAfter = m.ThisUpdate, issued.Add(updateAfter)
	}
	return b.signed(n, encode.OIDCTManifest, m.Encode(), ee, key, n.fault == FaultManifestBadSignature)
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

package world

import (
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/rovd/rovd/bench/world/encode"
)

// pointFiles lists the files of CA n's publication point in their fixed
// order: child CA certificates, ROAs, ASPAs, router certificates,
// Ghostbusters records, files of unknown type, the CRL and last the
// manifest. Building is deferred to each spec's build function; the
// manifest's is given the other files' bytes by buildPoint.
func (p *plan) pointFiles(n *caNode, b *builder) []fileSpec {
	var specs []fileSpec
	add := func(name string, kind Kind, build func(seq int, uri string) ([]byte, error)) *fileSpec {
		seq := len(specs)
		uri := n.dirURI(p) + name
		specs = append(specs, fileSpec{name: name, kind: kind, seq: seq, publish: true, listed: true,
			build: func() ([]byte, error) { return build(seq, uri) }})
		return &specs[len(specs)-1]
	}
	for _, ci := range n.children {
		child := p.cas[ci]
		add(child.name+".cer", KindCACert, func(seq int, _ string) ([]byte, error) {
			return b.caCert(child, seq).Encode(b.ca[n.idx].signer)
		})
	}
	var revoked []*big.Int
	for _, r := range n.roas {
		s := add(r.file, KindROA, func(seq int, uri string) ([]byte, error) { return b.roa(n, r, seq, uri) })
		switch {
		case r.fault == FaultROAEERevoked:
			revoked = append(revoked, serial(r.gen, s.seq))
		case r.file == "fault.roa" && n.fault == FaultFileNotOnManifest:
			s.listed = false
		case r.file == "fault.roa" && n.fault == FaultManifestFileMissing:
			s.publish = false
		case r.file == "fault.roa" && n.fault == FaultManifestHashMismatch:
			s.wrongHash = true
		}
	}
	for _, a := range n.aspas {
		add(a.file, KindASPA, func(seq int, uri string) ([]byte, error) { return b.aspa(n, a, seq, uri) })
	}
	for _, rt := range n.routers {
		add(rt.file, KindRouterCert, func(seq int, uri string) ([]byte, error) { return b.router(n, rt, seq, uri) })
	}
	for _, g := range n.gbrs {
		add(g.file, KindGBR, func(seq int, uri string) ([]byte, error) { return b.gbr(n, g, seq, uri) })
	}
	for _, name := range n.other {
		add(name, KindOther, func(seq int, uri string) ([]byte, error) {
			// Content of no known type: a DER OCTET STRING, so it is at
			// least not mistaken for a text file.
			return encode.OctetString([]byte("rovd-bench object of an unknown type: " + uri)), nil
		})
	}
	crl := add(n.name+".crl", KindCRL, func(int, string) ([]byte, error) { return b.crl(n, revoked) })
	if n.fault == FaultCRLMissing {
		crl.publish, crl.listed = false, false
	}
	mft := add(n.name+".mft", KindManifest, nil)
	mft.listed = false
	if n.fault == FaultManifestMissing {
		mft.publish = false
	}
	return specs
}

// point is one built publication point, its objects in pointFiles order
// (unpublished files left out).
type point struct {
	ca      *caNode
	objects []Object
}

// buildPoint builds CA n's publication point. If reuse is set, files for
// which it returns bytes are taken as they are instead of being signed
// again (a mutation re-signs only what changed).
func (b *builder) buildPoint(n *caNode, reuse func(name string) ([]byte, bool)) (*point, error) {
	p := b.p
	specs := p.pointFiles(n, b)
	data := make([][]byte, len(specs))
	var files []encode.FileAndHash
	for i := range specs {
		s := &specs[i]
		if s.kind == KindManifest {
			mft, err := b.manifest(n, s.seq, files)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.mftURI(p), err)
			}
			data[i] = mft
			continue
		}
		var bs []byte
		if reuse != nil {
			bs, _ = reuse(s.name)
		}
		if bs == nil {
			var err error
			if bs, err = s.build(); err != nil {
				return nil, fmt.Errorf("%s%s: %w", n.dirURI(p), s.name, err)
			}
		}
		data[i] = bs
		if s.listed {
			h := sha256.Sum256(bs)
			if s.wrongHash {
				h[0] ^= 0xff
			}
			files = append(files, encode.FileAndHash{Name: s.name, Hash: h[:]})
		}
	}
	pt := &point{ca: n}
	repo := n.repository(p).Name
	for i, s := range specs {
		if s.publish {
			pt.objects = append(pt.objects, Object{URI: n.dirURI(p) + s.name, Repo: repo, CA: n.name, Kind: s.kind, Bytes: data[i]})
		}
	}
	return pt, nil
}

// taObjects builds a trust anchor's self-signed certificate and its TAL.
func (b *builder) taObjects(n *caNode) (TA, error) {
	p := b.p
	c := b.caCert(n, 0)
	der, err := c.Encode(b.ca[n.idx].signer)
	if err != nil {
		return TA{}, fmt.Errorf("trust anchor %s: %w", n.name, err)
	}
	tal := &encode.TAL{
		Comments: []string{fmt.Sprintf("%s: rovd-bench test world, seed %d", n.name, p.cfg.Seed)},
		URIs:     []string{n.taHTTPSURI(p), n.certURI(p)},
		SPKI:     b.ca[n.idx].spki,
	}
	return TA{Name: n.name, Repo: n.repository(p).Name, RsyncURI: n.certURI(p), HTTPSURI: n.taHTTPSURI(p),
		Cert: der, TAL: tal.Encode()}, nil
}

package rpki

import (
	"crypto/rsa"

	"github.com/rovd/rovd/engine/der"
)

// TAKey is one key of a Trust Anchor Key object: comments, where its
// certificate is published, and the key itself.
type TAKey struct {
	Comments []string
	URIs     []string
	SPKI     []byte
}

// TAK is a decoded Trust Anchor Key object (RFC 9691), which a trust
// anchor uses to announce its current key and a successor or predecessor.
type TAK struct {
	SignedObject
	Current     TAKey
	Predecessor *TAKey
	Successor   *TAKey

	findings
}

// Type returns TypeTAK.
func (t *TAK) Type() Type { return TypeTAK }

// ParseTAK decodes a TAK object.
func ParseTAK(data []byte, mode der.Mode) (*TAK, error) {
	var r report
	t := new(TAK)
	if err := parseCMS(&t.SignedObject, data, mode, oidCTTAK, &r); err != nil {
		return nil, err
	}
	const field, ref = "takey", "RFC 9691 §3"
	p := der.Parse(t.Content, mode)
	seq, err := p.Sequence()
	if err == nil {
		err = p.Done()
	}
	if err != nil {
		return nil, decodeErr("tak", ref, err)
	}
	if err := checkVersion(&seq, 0, "tak.version", ref, &r); err != nil {
		return nil, err
	}
	if t.Current, err = parseTAKey(&seq, mode, "tak.current", &r); err != nil {
		return nil, err
	}
	for i, dst := range []**TAKey{&t.Predecessor, &t.Successor} {
		inner, ok, err := seq.OptionalExplicit(uint32(i))
		if err != nil {
			return nil, decodeErr("tak", ref, err)
		}
		if ok {
			k, err := parseTAKey(&inner, mode, field, &r)
			if err != nil {
				return nil, err
			}
			*dst = &k
		}
	}
	if err := seq.Done(); err != nil {
		return nil, decodeErr("tak", ref, err)
	}
	t.problems = r.problems
	return t, nil
}

func parseTAKey(p *der.Parser, mode der.Mode, field string, r *report) (TAKey, error) {
	const ref = "RFC 9691 §3"
	var k TAKey
	seq, err := p.Sequence()
	if err != nil {
		return k, decodeErr(field, ref, err)
	}
	comments, err := seq.Sequence()
	if err != nil {
		return k, decodeErr(field+".comments", ref, err)
	}
	for !comments.Empty() {
		el, err := comments.Expect(der.TagUTF8String)
		if err == nil {
			_, err = el.Text()
		}
		if err != nil {
			return k, decodeErr(field+".comments", ref, err)
		}
		k.Comments = append(k.Comments, string(el.Content()))
	}
	uris, err := seq.Sequence()
	if err != nil {
		return k, decodeErr(field+".certificateURIs", ref, err)
	}
	for !uris.Empty() {
		el, err := uris.Expect(der.TagIA5String)
		if err != nil {
			return k, decodeErr(field+".certificateURIs", ref, err)
		}
		uri, err := checkURI(el.Content())
		if err != nil {
			r.inspect(field+".certificateURIs", ref, "%v", err)
			continue
		}
		if !hasScheme(uri, "rsync://") && !hasScheme(uri, "https://") {
			r.inspect(field+".certificateURIs", ref, "unsupported URI scheme: %s", uri)
		}
		k.URIs = append(k.URIs, uri)
	}
	if len(k.URIs) == 0 {
		r.inspect(field+".certificateURIs", ref, "no certificate URIs")
	}
	info, err := parsePublicKeyInfo(&seq, field+".subjectPublicKeyInfo")
	if err != nil {
		return k, err
	}
	k.SPKI = info.Raw
	if !info.Algorithm.OID.Equal(oidRSAEncryption) {
		r.inspect(field+".subjectPublicKeyInfo", "RFC 7935 §3.1", "key algorithm %s, want rsaEncryption", oidName(info.Algorithm.OID))
	} else if err := parseRSAKey(new(rsa.PublicKey), info, mode, field+".subjectPublicKeyInfo", r); err != nil {
		return k, err
	}
	if err := seq.Done(); err != nil {
		return k, decodeErr(field, ref, err)
	}
	return k, nil
}

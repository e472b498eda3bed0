package rpki_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/encode"
	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

var update = flag.Bool("update", false, "rewrite testdata/broken from the builders in broken_test.go")

// brokenDir holds objects with one defect each, named after it, built
// with bench/world/encode by this file (go test -run Broken -update).
const brokenDir = "testdata/broken"

// brokenNow is when the broken objects are valid, apart from their defect.
var brokenNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const brokenRepo = "rsync://rpki.example.net/repo/ca/"

// brokenKit holds the keys and the issuing CA the broken objects share.
type brokenKit struct {
	caKey, eeKey *rsa.PrivateKey
	routerKey    *ecdsa.PrivateKey
	caSKI, eeSKI []byte
}

func newBrokenKit(t *testing.T) *brokenKit {
	keys, err := (&world.KeySource{}).CAKeys(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	// A fixed scalar keeps the router key, and so the files, stable.
	scalar := sha256.Sum256([]byte("rovd broken router key"))
	router, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		t.Fatal(err)
	}
	k := &brokenKit{caKey: keys[0], eeKey: keys[1], routerKey: router}
	k.caSKI, _ = encode.KeyIdentifier(&k.caKey.PublicKey)
	k.eeSKI, _ = encode.KeyIdentifier(&k.eeKey.PublicKey)
	return k
}

// ca is the issuing CA's certificate, self-signed so it can also stand
// as a trust anchor.
func (k *brokenKit) ca() *encode.Cert {
	return &encode.Cert{
		Serial:       big.NewInt(1),
		Issuer:       encode.Name{CommonName: "broken-ca"},
		Subject:      encode.Name{CommonName: "broken-ca"},
		NotBefore:    brokenNow.AddDate(-1, 0, 0),
		NotAfter:     brokenNow.AddDate(1, 0, 0),
		PublicKey:    &k.caKey.PublicKey,
		CA:           true,
		CARepository: brokenRepo,
		Manifest:     brokenRepo + "ca.mft",
		IP:           &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}},
		AS:           &encode.ASResources{Ranges: []encode.ASRange{{Min: 64496, Max: 64511}}},
	}
}

// child is a CA certificate issued by the CA.
func (k *brokenKit) child() *encode.Cert {
	c := k.ca()
	c.Serial = big.NewInt(2)
	c.Subject = encode.Name{CommonName: "broken-child"}
	c.PublicKey = &k.eeKey.PublicKey
	c.AKI = k.caSKI
	c.CRLURI = brokenRepo + "ca.crl"
	c.CAIssuers = "rsync://rpki.example.net/repo/ca.cer"
	c.CARepository = "rsync://rpki.example.net/repo/child/"
	c.Manifest = "rsync://rpki.example.net/repo/child/child.mft"
	c.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	c.AS = encode.ASNs(64500)
	return c
}

// ee is the EE certificate of a signed object published as file.
func (k *brokenKit) ee(file string, serial int64) *encode.Cert {
	return &encode.Cert{
		Serial:       big.NewInt(serial),
		Issuer:       encode.Name{CommonName: "broken-ca"},
		Subject:      encode.Name{CommonName: fmt.Sprintf("ee-%d", serial)},
		NotBefore:    brokenNow.AddDate(0, 0, -1),
		NotAfter:     brokenNow.AddDate(0, 0, 7),
		PublicKey:    &k.eeKey.PublicKey,
		AKI:          k.caSKI,
		CRLURI:       brokenRepo + "ca.crl",
		CAIssuers:    "rsync://rpki.example.net/repo/ca.cer",
		SignedObject: brokenRepo + file,
	}
}

// signed wraps content in a signed object with the given EE certificate.
func (k *brokenKit) signed(t *testing.T, ct encode.OID, content []byte, ee *encode.Cert, tweak func(*encode.SignedObject)) []byte {
	eeDER, err := ee.Encode(k.caKey)
	if err != nil {
		t.Fatal(err)
	}
	so := &encode.SignedObject{ContentType: ct, Content: content, EECert: eeDER, SKI: k.eeSKI, SigningTime: brokenNow.Add(-time.Hour)}
	if tweak != nil {
		tweak(so)
	}
	out, err := so.Encode(k.eeKey)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (k *brokenKit) roa(t *testing.T, file string, r *encode.ROA, eeTweak func(*encode.Cert), soTweak func(*encode.SignedObject)) []byte {
	if r == nil {
		r = &encode.ROA{ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16"), MaxLength: 24}}}
	}
	ee := k.ee(file, 100)
	ee.IP = r.Resources()
	if eeTweak != nil {
		eeTweak(ee)
	}
	return k.signed(t, encode.OIDCTROA, r.Encode(), ee, soTweak)
}

func (k *brokenKit) manifest(t *testing.T, m *encode.Manifest, eeTweak func(*encode.Cert)) []byte {
	ee := k.ee("ca.mft", 200)
	ee.IP, ee.AS = encode.InheritIP(), encode.InheritAS()
	if eeTweak != nil {
		eeTweak(ee)
	}
	return k.signed(t, encode.OIDCTManifest, m.Encode(), ee, nil)
}

func (k *brokenKit) validManifest() *encode.Manifest {
	hash := sha256.Sum256([]byte("a file"))
	return &encode.Manifest{
		Number:     big.NewInt(7),
		ThisUpdate: brokenNow.Add(-time.Hour),
		NextUpdate: brokenNow.Add(23 * time.Hour),
		Files:      []encode.FileAndHash{{Name: "ca.crl", Hash: hash[:]}, {Name: "a.roa", Hash: hash[:]}},
	}
}

func (k *brokenKit) aspa(t *testing.T, a *encode.ASPA, eeTweak func(*encode.Cert)) []byte {
	ee := k.ee("a.asa", 300)
	ee.AS = encode.ASNs(a.Customer)
	if eeTweak != nil {
		eeTweak(ee)
	}
	return k.signed(t, encode.OIDCTASPA, a.Encode(), ee, nil)
}

func (k *brokenKit) cert(t *testing.T, c *encode.Cert) []byte {
	out, err := c.Encode(k.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (k *brokenKit) crl(t *testing.T, tweak func(*encode.CRL)) []byte {
	l := &encode.CRL{
		Issuer:     encode.Name{CommonName: "broken-ca"},
		ThisUpdate: brokenNow.Add(-time.Hour),
		NextUpdate: brokenNow.Add(23 * time.Hour),
		Number:     big.NewInt(7),
		AKI:        k.caSKI,
		Revoked:    []encode.Revoked{{Serial: big.NewInt(666), Time: brokenNow.Add(-48 * time.Hour)}},
	}
	if tweak != nil {
		tweak(l)
	}
	out, err := l.Encode(k.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// brokenCase is one file: how to build it and what rovd must say. want
// is a substring of the decoding error or of a problem; strictOnly means
// relaxed mode accepts the object and only strict mode reports it.
type brokenCase struct {
	file       string
	build      func(*testing.T, *brokenKit) []byte
	want       string
	strictOnly bool
}

var brokenCases = []brokenCase{
	// The valid objects the others are variations of.
	{"valid-ca.cer", func(t *testing.T, k *brokenKit) []byte { return k.cert(t, k.ca()) }, "", false},
	{"valid-ca.crl", func(t *testing.T, k *brokenKit) []byte { return k.crl(t, nil) }, "", false},
	{"valid.roa", func(t *testing.T, k *brokenKit) []byte { return k.roa(t, "valid.roa", nil, nil, nil) }, "", false},
	{"valid.mft", func(t *testing.T, k *brokenKit) []byte { return k.manifest(t, k.validManifest(), nil) }, "", false},

	// Certificates (RFC 6487, RFC 8209).
	{"cert-duplicate-extension.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.Extra = []encode.Extension{{OID: encode.OIDSubjectKeyID, Value: encode.OctetString(k.eeSKI)}}
		return k.cert(t, c)
	}, "extension appears twice", false},
	{"cert-unknown-critical-extension.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.Extra = []encode.Extension{{OID: encode.ParseOID("1.3.6.1.4.1.99999.1"), Critical: true, Value: encode.Null()}}
		return k.cert(t, c)
	}, "unknown critical extension", false},
	{"cert-utf8string-common-name.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.Subject.StringTag = encode.TagUTF8String
		return k.cert(t, c)
	}, "UTF8String instead of PrintableString", true},
	{"cert-policy-missing.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.OmitPolicy = true
		return k.cert(t, c)
	}, "certificatePolicies missing", false},
	{"cert-ski-not-key-hash.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.SKI = bytes.Repeat([]byte{0xab}, 20)
		return k.cert(t, c)
	}, "not the SHA-1 hash of the public key", false},
	{"cert-ca-key-usage-digital-signature.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.KeyUsageBits = []int{0, 5, 6}
		return k.cert(t, c)
	}, "CA key usage must be keyCertSign and cRLSign only", false},
	{"cert-manifest-outside-repository.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.Manifest = "rsync://rpki.example.net/repo/elsewhere/child.mft"
		return k.cert(t, c)
	}, "is not in caRepository", false},
	{"cert-no-resources.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.IP, c.AS = nil, nil
		return k.cert(t, c)
	}, "neither IP nor AS resources", false},
	{"cert-crldp-without-module.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.CRLURI = "rsync://rpki.example.net"
		return k.cert(t, c)
	}, "has no module", false},
	{"cert-nul-in-uri.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.CAIssuers = "rsync://rpki.example.net/repo/ca\x00.cer"
		return k.cert(t, c)
	}, "control or non-ASCII character", false},
	{"cert-overclaim.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("11.0.0.0/16")}}
		return k.cert(t, c)
	}, "resources exceed the issuer's", false},
	{"cert-bad-signature.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.CorruptSignature = true
		return k.cert(t, c)
	}, "signature does not verify", false},
	{"cert-expired.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.NotBefore, c.NotAfter = brokenNow.AddDate(-2, 0, 0), brokenNow.AddDate(-1, 0, 0)
		return k.cert(t, c)
	}, "expired at", false},
	{"router-cert-rsa-key.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.MakeRouter(64500)
		c.Subject = encode.RouterSubject(64500, "router-1")
		return k.cert(t, c)
	}, "want ECDSA P-256", false},
	{"router-cert-with-sia.cer", func(t *testing.T, k *brokenKit) []byte {
		c := k.child()
		c.MakeRouter(64500)
		c.PublicKey = &k.routerKey.PublicKey
		c.Subject = encode.RouterSubject(64500, "router-1")
		c.SignedObject = brokenRepo + "router.cer"
		return k.cert(t, c)
	}, "SIA must be omitted", false},

	// ROAs (RFC 9582) and the CMS layer (RFC 6488, RFC 9589).
	{"roa-maxlen-below-prefix-length.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", &encode.ROA{ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16"), MaxLength: 12, ForceMaxLength: true}}}, nil, nil)
	}, "maxLength 12 is below the length of 10.1.0.0/16", false},
	{"roa-maxlen-over-32.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", &encode.ROA{ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16"), MaxLength: 33}}}, nil, nil)
	}, "maxLength 33 of 10.1.0.0/16 exceeds 32", false},
	{"roa-ee-inherit.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, func(ee *encode.Cert) { ee.IP = encode.InheritIP() }, nil)
	}, "inherit is not allowed", false},
	{"roa-ee-with-as-resources.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, func(ee *encode.Cert) { ee.AS = encode.ASNs(64500) }, nil)
	}, "must not carry AS resources", false},
	{"roa-explicit-version-0.roa", func(t *testing.T, k *brokenKit) []byte {
		zero := 0
		return k.roa(t, "x.roa", &encode.ROA{Version: &zero, ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16")}}}, nil, nil)
	}, "version 0 is the default", false},
	{"roa-prefix-not-in-ee.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, func(ee *encode.Cert) {
			ee.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/16")}}
		}, nil)
	}, "is not covered by the EE certificate", false},
	{"roa-unsorted-prefixes.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", &encode.ROA{ASID: 64500, Unsorted: true, Prefixes: []encode.ROAPrefix{
			{Prefix: netip.MustParsePrefix("10.1.2.0/24")}, {Prefix: netip.MustParsePrefix("10.1.1.0/24")}}}, nil, nil)
	}, "not in canonical order", true},
	{"roa-signing-time-missing.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, nil, func(so *encode.SignedObject) { so.OmitSigningTime = true })
	}, "signing-time missing", false},
	{"roa-binary-signing-time.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, nil, func(so *encode.SignedObject) { so.BinarySigningTime = true })
	}, "binary-signing-time must not be used", false},
	{"roa-message-digest-mismatch.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, nil, func(so *encode.SignedObject) { so.MessageDigest = bytes.Repeat([]byte{1}, 32) })
	}, "message digest does not match the content", false},
	{"roa-bad-cms-signature.roa", func(t *testing.T, k *brokenKit) []byte {
		return k.roa(t, "x.roa", nil, nil, func(so *encode.SignedObject) { so.CorruptSignature = true })
	}, "signature does not verify", false},
	{"roa-ee-revoked.roa", func(t *testing.T, k *brokenKit) []byte {
		r := &encode.ROA{ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16")}}}
		ee := k.ee("x.roa", 666) // the serial valid-ca.crl revokes
		ee.IP = r.Resources()
		return k.signed(t, encode.OIDCTROA, r.Encode(), ee, nil)
	}, "is revoked", false},
	{"roa-content-type-manifest.roa", func(t *testing.T, k *brokenKit) []byte {
		r := &encode.ROA{ASID: 64500, Prefixes: []encode.ROAPrefix{{Prefix: netip.MustParsePrefix("10.1.0.0/16")}}}
		ee := k.ee("x.roa", 100)
		ee.IP = r.Resources()
		return k.signed(t, encode.OIDCTManifest, r.Encode(), ee, nil)
	}, "content type rpkiManifest", false},

	// Manifests (RFC 9286).
	{"mft-file-name-with-slash.mft", func(t *testing.T, k *brokenKit) []byte {
		m := k.validManifest()
		m.Files[1].Name = "dir/a.roa"
		return k.manifest(t, m, nil)
	}, "outside [A-Za-z0-9._-]", false},
	{"mft-file-listed-twice.mft", func(t *testing.T, k *brokenKit) []byte {
		m := k.validManifest()
		m.Files = append(m.Files, m.Files[1])
		return k.manifest(t, m, nil)
	}, "listed twice", false},
	{"mft-hash-short.mft", func(t *testing.T, k *brokenKit) []byte {
		m := k.validManifest()
		m.Files[1].Hash = m.Files[1].Hash[:20]
		return k.manifest(t, m, nil)
	}, "want 256", false},
	{"mft-next-update-before-this-update.mft", func(t *testing.T, k *brokenKit) []byte {
		m := k.validManifest()
		m.NextUpdate = m.ThisUpdate.Add(-time.Hour)
		return k.manifest(t, m, nil)
	}, "nextUpdate is not after thisUpdate", false},
	{"mft-ee-not-inherit.mft", func(t *testing.T, k *brokenKit) []byte {
		return k.manifest(t, k.validManifest(), func(ee *encode.Cert) {
			ee.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		})
	}, "resources must be inherit", false},
	{"mft-crl-not-listed.mft", func(t *testing.T, k *brokenKit) []byte {
		m := k.validManifest()
		m.Files = m.Files[1:]
		return k.manifest(t, m, nil)
	}, "the CRL ca.crl is not listed", false},

	// CRLs (RFC 6487 §5).
	{"crl-number-missing.crl", func(t *testing.T, k *brokenKit) []byte {
		return k.crl(t, func(l *encode.CRL) { l.OmitNumber = true })
	}, "cRLNumber missing", false},
	{"crl-extra-extension.crl", func(t *testing.T, k *brokenKit) []byte {
		return k.crl(t, func(l *encode.CRL) {
			l.Extra = []encode.Extension{{OID: encode.ParseOID("2.5.29.28"), Value: encode.Sequence()}}
		})
	}, "is not allowed", false},
	{"crl-bad-signature.crl", func(t *testing.T, k *brokenKit) []byte {
		return k.crl(t, func(l *encode.CRL) { l.CorruptSignature = true })
	}, "signature does not verify", false},

	// ASPAs (draft-ietf-sidrops-aspa-profile).
	{"aspa-customer-in-providers.asa", func(t *testing.T, k *brokenKit) []byte {
		return k.aspa(t, &encode.ASPA{Customer: 64500, Providers: []uint32{64496, 64500}}, nil)
	}, "also listed as a provider", false},
	{"aspa-providers-unsorted.asa", func(t *testing.T, k *brokenKit) []byte {
		return k.aspa(t, &encode.ASPA{Customer: 64500, Providers: []uint32{64502, 64497}, Unsorted: true}, nil)
	}, "not in ascending order", false},
	{"aspa-version-missing.asa", func(t *testing.T, k *brokenKit) []byte {
		none := -1
		return k.aspa(t, &encode.ASPA{Version: &none, Customer: 64500, Providers: []uint32{64497}}, nil)
	}, "version missing, want 1", false},
	{"aspa-ee-with-ip-resources.asa", func(t *testing.T, k *brokenKit) []byte {
		return k.aspa(t, &encode.ASPA{Customer: 64500, Providers: []uint32{64497}}, func(ee *encode.Cert) {
			ee.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
		})
	}, "must not carry IP resources", false},

	// Ghostbusters records (RFC 6493) and TALs (RFC 8630).
	{"gbr-no-contact.gbr", func(t *testing.T, k *brokenKit) []byte {
		ee := k.ee("x.gbr", 400)
		ee.IP, ee.AS = encode.InheritIP(), encode.InheritAS()
		return k.signed(t, encode.OIDCTGBR, (&encode.VCard{FullName: "Nobody", Org: "Nowhere"}).Encode(), ee, nil)
	}, "no ADR, TEL or EMAIL", false},
	{"tal-http-uri.tal", func(t *testing.T, k *brokenKit) []byte {
		spki, _ := encode.SubjectPublicKeyInfo(&k.caKey.PublicKey)
		return (&encode.TAL{URIs: []string{"http://rpki.example.net/ta.cer"}, SPKI: spki}).Encode()
	}, "unsupported URI scheme", false},
	{"tal-no-uri.tal", func(t *testing.T, k *brokenKit) []byte {
		spki, _ := encode.SubjectPublicKeyInfo(&k.caKey.PublicKey)
		return (&encode.TAL{Comments: []string{"no location"}, SPKI: spki}).Encode()
	}, "no URIs", false},
}

// TestBrokenObjects decodes every file in testdata/broken and checks that
// rovd reports its defect, in the decoder or in validation against the
// CA (valid-ca.cer with valid-ca.crl).
func TestBrokenObjects(t *testing.T) {
	if *update {
		writeBroken(t)
	}
	caData, err := os.ReadFile(filepath.Join(brokenDir, "valid-ca.cer"))
	if err != nil {
		t.Fatalf("%v (run go test -run Broken -update)", err)
	}
	ca, err := rpki.ParseCertificate(caData, der.Relaxed)
	if err != nil {
		t.Fatal(err)
	}
	crlData, _ := os.ReadFile(filepath.Join(brokenDir, "valid-ca.crl"))
	iss := ca.AsIssuer(nil, "rsync://rpki.example.net/repo/ca.cer")
	if iss.CRL, err = rpki.ParseCRL(crlData, der.Relaxed); err != nil {
		t.Fatal(err)
	}
	iss.CRLURI = brokenRepo + "ca.crl"
	for _, tc := range brokenCases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(brokenDir, tc.file))
			if err != nil {
				t.Fatalf("%v (run go test -run Broken -update)", err)
			}
			relaxed := brokenReport(t, tc.file, data, der.Relaxed, iss)
			strict := brokenReport(t, tc.file, data, der.Strict, iss)
			switch {
			case tc.want == "":
				if relaxed != "" || strict != "" {
					t.Fatalf("valid object reported: %s %s", relaxed, strict)
				}
			case tc.strictOnly:
				if relaxed != "" {
					t.Errorf("relaxed mode reported: %s", relaxed)
				}
				if !strings.Contains(strict, tc.want) {
					t.Errorf("strict mode: want %q, got %q", tc.want, strict)
				}
			case !strings.Contains(relaxed, tc.want):
				t.Errorf("want %q, got %q", tc.want, relaxed)
			}
		})
	}
}

// brokenReport decodes and, if that works, validates data, and returns every
// problem in one string ("" if none).
func brokenReport(t *testing.T, file string, data []byte, mode der.Mode, iss *rpki.Issuer) string {
	if rpki.TypeFromName(file) == rpki.TypeTAL {
		if _, err := rpki.ParseTAL(data); err != nil {
			return err.Error()
		}
		return ""
	}
	obj, err := rpki.Parse(rpki.TypeFromName(file), data, mode)
	if err != nil {
		return err.Error()
	}
	ps := obj.Problems()
	switch o := obj.(type) {
	case *rpki.Certificate:
		if o.Kind == rpki.CertTA {
			ps = append(ps, o.ValidateTA(nil, brokenNow)...)
		} else {
			ps = append(ps, o.Validate(iss, brokenNow)...)
		}
	case *rpki.CRL:
		ps = append(ps, o.Validate(iss, brokenNow)...)
	case *rpki.Manifest:
		ps = append(ps, o.Validate(iss, brokenNow)...)
	case *rpki.ROA:
		ps = append(ps, o.Validate(iss, brokenNow)...)
	case *rpki.ASPA:
		ps = append(ps, o.Validate(iss, brokenNow)...)
	case *rpki.GBR:
		ps = append(ps, o.Validate(iss, brokenNow)...)
	}
	if err := rpki.Join(ps); err != nil {
		return err.Error()
	}
	return ""
}

// writeBroken rebuilds testdata/broken and its README.
func writeBroken(t *testing.T) {
	k := newBrokenKit(t)
	if err := os.MkdirAll(brokenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var readme strings.Builder
	readme.WriteString(`# broken RPKI objects

Each file has one defect, named in its file name, and TestBrokenObjects
checks that rovd reports it (in the decoder, or when validating against
valid-ca.cer and valid-ca.crl at 2025-06-01T12:00:00Z). The valid-* files
are the unbroken objects the others vary.

Built by broken_test.go with bench/world/encode and the first two keys of
the committed test key pool (bench/world/testkeys); RSA PKCS #1 v1.5
signatures are deterministic, so rebuilding gives the same bytes:

    go test ./engine/rpki -run TestBrokenObjects -update

| file | rovd must say |
|---|---|
`)
	for _, tc := range brokenCases {
		if err := os.WriteFile(filepath.Join(brokenDir, tc.file), tc.build(t, k), 0o644); err != nil {
			t.Fatal(err)
		}
		want := tc.want
		switch {
		case want == "":
			want = "nothing (valid)"
		case tc.strictOnly:
			want += " (strict mode only)"
		}
		fmt.Fprintf(&readme, "| `%s` | %s |\n", tc.file, want)
	}
	if err := os.WriteFile(filepath.Join(brokenDir, "README.md"), []byte(readme.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

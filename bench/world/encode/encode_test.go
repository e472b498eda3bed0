package encode_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world/encode"
	"github.com/rovd/rovd/bench/world/internal/cmsview"
)

// Test keys are generated once per test binary; RSA-2048 generation is
// slow, so the whole file shares three.
var (
	keysOnce               sync.Once
	caKey, childKey, eeKey *rsa.PrivateKey
	routerKey              *ecdsa.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&caKey, &childKey, &eeKey} {
			if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		}
		if routerKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

func ski(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	k, err := encode.KeyIdentifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func taCert(t testing.TB) (*encode.Cert, *x509.Certificate) {
	t.Helper()
	keys(t)
	c := &encode.Cert{
		Serial: big.NewInt(1), Issuer: encode.Name{CommonName: "ta"}, Subject: encode.Name{CommonName: "ta"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour * 24 * 365),
		PublicKey: caKey.Public(), CA: true,
		CARepository: "rsync://h/m/ta/", Manifest: "rsync://h/m/ta/ta.mft", Notify: "https://h/rrdp/n.xml",
		IP: &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}},
		AS: &encode.ASResources{Ranges: []encode.ASRange{{Min: 0, Max: 4294967295}}},
	}
	der, err := c.Encode(caKey)
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, x
}

func extension(x *x509.Certificate, oid encode.OID) (critical bool, value []byte, n int) {
	for _, e := range x.Extensions {
		if e.Id.String() == oid.String() {
			critical, value = e.Critical, e.Value
			n++
		}
	}
	return critical, value, n
}

func TestCertificateCrossCheck(t *testing.T) {
	_, ta := taCert(t)
	keys(t)
	taSKI := ski(t, caKey.Public())
	base := func() *encode.Cert {
		return &encode.Cert{
			Serial: big.NewInt(77), Issuer: encode.Name{CommonName: "ta"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			AKI: taSKI, CRLURI: "rsync://h/m/ta/ta.crl", CAIssuers: "rsync://h/m/ta.cer",
		}
	}
	tests := []struct {
		name    string
		cert    func() *encode.Cert
		isCA    bool
		usage   x509.KeyUsage
		eku     []x509.ExtKeyUsage
		unknown []asn1.ObjectIdentifier
	}{
		{
			name: "child CA",
			cert: func() *encode.Cert {
				c := base()
				c.Subject, c.PublicKey, c.CA = encode.Name{CommonName: "child", SerialNumber: "0A"}, childKey.Public(), true
				c.CARepository, c.Manifest, c.Notify = "rsync://h/m/c/", "rsync://h/m/c/c.mft", "https://h/rrdp/n.xml"
				c.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
				c.AS = encode.ASNs(65000)
				return c
			},
			isCA: true, usage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		},
		{
			name: "EE of a signed object",
			cert: func() *encode.Cert {
				c := base()
				c.Subject, c.PublicKey, c.SignedObject = encode.Name{CommonName: "ee"}, eeKey.Public(), "rsync://h/m/ta/x.roa"
				c.IP = &encode.IPResources{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
				return c
			},
			usage: x509.KeyUsageDigitalSignature,
		},
		{
			name: "BGPsec router",
			cert: func() *encode.Cert {
				c := base()
				c.Subject, c.PublicKey = encode.RouterSubject(65000, ""), routerKey.Public()
				c.MakeRouter(65000)
				return c
			},
			usage: x509.KeyUsageDigitalSignature,
			eku:   nil, // id-kp-bgpsec-router is unknown to crypto/x509
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cert()
			der, err := c.Encode(caKey)
			if err != nil {
				t.Fatal(err)
			}
			x, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("x509 rejects the certificate: %v", err)
			}
			if err := x.CheckSignatureFrom(ta); err != nil {
				t.Errorf("signature: %v", err)
			}
			if x.Version != 3 || x.SerialNumber.Cmp(c.Serial) != 0 {
				t.Errorf("version %d serial %v", x.Version, x.SerialNumber)
			}
			if x.IsCA != tc.isCA || x.BasicConstraintsValid != tc.isCA {
				t.Errorf("IsCA %v (constraints valid %v), want %v", x.IsCA, x.BasicConstraintsValid, tc.isCA)
			}
			if x.MaxPathLen > 0 {
				t.Errorf("pathLen %d, want none", x.MaxPathLen)
			}
			if x.KeyUsage != tc.usage {
				t.Errorf("key usage %b, want %b", x.KeyUsage, tc.usage)
			}
			if !bytes.Equal(x.AuthorityKeyId, taSKI) {
				t.Errorf("AKI %x, want %x", x.AuthorityKeyId, taSKI)
			}
			var spki struct {
				Alg  asn1.RawValue
				Bits asn1.BitString
			}
			if _, err := asn1.Unmarshal(x.RawSubjectPublicKeyInfo, &spki); err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(spki.Bits.Bytes)
			if !bytes.Equal(x.SubjectKeyId, sum[:]) {
				t.Errorf("SKI %x is not the SHA-1 of the key bits %x", x.SubjectKeyId, sum)
			}
			if !slices.Equal(x.CRLDistributionPoints, []string{c.CRLURI}) || !slices.Equal(x.IssuingCertificateURL, []string{c.CAIssuers}) {
				t.Errorf("CRL %v AIA %v", x.CRLDistributionPoints, x.IssuingCertificateURL)
			}
			if crit, _, n := extension(x, encode.OIDCertPolicies); !crit || n != 1 || x.PolicyIdentifiers[0].String() != "1.3.6.1.5.5.7.14.2" {
				t.Errorf("policies critical=%v count=%d %v", crit, n, x.PolicyIdentifiers)
			}
			if x.Subject.CommonName != c.Subject.CommonName || x.Issuer.CommonName != "ta" {
				t.Errorf("subject %q issuer %q", x.Subject.CommonName, x.Issuer.CommonName)
			}
			if c.IP != nil {
				crit, _, n := extension(x, encode.OIDIPAddrBlocks)
				if !crit || n != 1 {
					t.Errorf("IP resources critical=%v count=%d", crit, n)
				}
			} else if _, _, n := extension(x, encode.OIDIPAddrBlocks); n != 0 {
				t.Errorf("unexpected IP resources")
			}
			if tc.name == "BGPsec router" {
				if len(x.UnknownExtKeyUsage) != 1 || x.UnknownExtKeyUsage[0].String() != "1.3.6.1.5.5.7.3.30" {
					t.Errorf("EKU %v", x.UnknownExtKeyUsage)
				}
				if _, _, n := extension(x, encode.OIDSubjectInfoAccess); n != 0 {
					t.Errorf("router certificate has an SIA")
				}
				if x.Subject.CommonName != "ROUTER-0000FDE8" {
					t.Errorf("router subject %q", x.Subject.CommonName)
				}
				if _, ok := x.PublicKey.(*ecdsa.PublicKey); !ok {
					t.Errorf("router key %T", x.PublicKey)
				}
			}
		})
	}
}

func TestTrustAnchorCertificate(t *testing.T) {
	_, ta := taCert(t)
	if err := ta.CheckSignatureFrom(ta); err != nil {
		t.Fatalf("self-signature: %v", err)
	}
	if ta.AuthorityKeyId != nil {
		t.Errorf("trust anchor has an AKI")
	}
	if len(ta.CRLDistributionPoints) != 0 || len(ta.IssuingCertificateURL) != 0 {
		t.Errorf("trust anchor has CRLDP or AIA")
	}
	for _, e := range ta.Extensions {
		if e.Id.String() == encode.OIDBasicConstraints.String() && !e.Critical {
			t.Errorf("basicConstraints not critical")
		}
	}
}

// The ASN.1 of RFC 3779 as encoding/asn1 sees it.
type ipAddressFamily struct {
	AddressFamily []byte
	Choice        asn1.RawValue
}

type ipRange struct{ Min, Max asn1.BitString }

// element is a decoded IPAddressOrRange: a prefix (Max empty) or a range.
type element struct{ Min, Max string }

func bitsOf(b asn1.BitString) string {
	var s strings.Builder
	for i := range b.BitLength {
		s.WriteByte('0' + byte(b.At(i)))
	}
	return s.String()
}

func decodeIPBlocks(t *testing.T, der []byte) map[byte][]element {
	t.Helper()
	var fams []ipAddressFamily
	if rest, err := asn1.Unmarshal(der, &fams); err != nil || len(rest) > 0 {
		t.Fatalf("IPAddrBlocks: %v (rest %d)", err, len(rest))
	}
	out := map[byte][]element{}
	for _, f := range fams {
		afi := f.AddressFamily[1]
		if f.Choice.Tag == asn1.TagNull {
			out[afi] = []element{{Min: "inherit"}}
			continue
		}
		var raw []asn1.RawValue
		if _, err := asn1.Unmarshal(f.Choice.FullBytes, &raw); err != nil {
			t.Fatal(err)
		}
		for _, r := range raw {
			if r.Tag == asn1.TagBitString {
				var b asn1.BitString
				if _, err := asn1.Unmarshal(r.FullBytes, &b); err != nil {
					t.Fatal(err)
				}
				out[afi] = append(out[afi], element{Min: bitsOf(b)})
				continue
			}
			var rg ipRange
			if _, err := asn1.Unmarshal(r.FullBytes, &rg); err != nil {
				t.Fatal(err)
			}
			out[afi] = append(out[afi], element{Min: bitsOf(rg.Min), Max: bitsOf(rg.Max)})
		}
	}
	return out
}

func TestIPResourcesCanonical(t *testing.T) {
	pfx := netip.MustParsePrefix
	addr := netip.MustParseAddr
	tests := []struct {
		name string
		res  encode.IPResources
		want map[byte][]element
	}{
		{
			name: "adjacent prefixes merge into one prefix",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("10.0.1.0/24"), pfx("10.0.0.0/24")}},
			want: map[byte][]element{1: {{Min: "00001010000000000000000"}}},
		},
		{
			name: "contained prefix disappears",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("10.0.0.0/8"), pfx("10.1.0.0/16")}},
			want: map[byte][]element{1: {{Min: "00001010"}}},
		},
		{
			name: "non-adjacent prefixes stay apart and sorted",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("10.0.2.0/24"), pfx("10.0.0.0/24")}},
			want: map[byte][]element{1: {{Min: "000010100000000000000000"}, {Min: "000010100000000000000010"}}},
		},
		{
			name: "three /24s make a range with minimal bit strings",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("10.0.0.0/24"), pfx("10.0.1.0/24"), pfx("10.0.2.0/24")}},
			// min 10.0.0.0 drops trailing zeros, max 10.0.2.255 drops
			// trailing ones (RFC 3779 §2.2.3.7).
			want: map[byte][]element{1: {{Min: "0000101", Max: "000010100000000000000010"}}},
		},
		{
			name: "range max drops trailing one bits",
			res:  encode.IPResources{Ranges: []encode.IPRange{{Min: addr("10.0.0.1"), Max: addr("10.0.1.255")}}},
			want: map[byte][]element{1: {{Min: "00001010000000000000000000000001", Max: "00001010" + "00000000" + "0000000"}}}, // 10.0.1.255: every bit after the last zero is one
		},
		{
			name: "range that is a prefix is encoded as a prefix",
			res:  encode.IPResources{Ranges: []encode.IPRange{{Min: addr("192.168.0.0"), Max: addr("192.168.255.255")}}},
			want: map[byte][]element{1: {{Min: "1100000010101000"}}},
		},
		{
			name: "prefix whose last bit is one",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("8.0.0.0/5")}},
			want: map[byte][]element{1: {{Min: "00001"}}},
		},
		{
			name: "whole space",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("0.0.0.0/0"), pfx("::/0")}},
			want: map[byte][]element{1: {{Min: ""}}, 2: {{Min: ""}}},
		},
		{
			name: "IPv4 before IPv6 whatever the input order",
			res:  encode.IPResources{Prefixes: []netip.Prefix{pfx("2001:db8::/32"), pfx("192.0.2.0/24")}},
			want: map[byte][]element{
				1: {{Min: "110000000000000000000010"}},
				2: {{Min: "00100000000000010000110110111000"}},
			},
		},
		{
			name: "inherit per family",
			res:  encode.IPResources{InheritV4: true, Prefixes: []netip.Prefix{pfx("2001:db8::/32")}},
			want: map[byte][]element{1: {{Min: "inherit"}}, 2: {{Min: "00100000000000010000110110111000"}}},
		},
		{
			name: "IPv6 range",
			res:  encode.IPResources{Ranges: []encode.IPRange{{Min: addr("2001:db8::1"), Max: addr("2001:db8::2")}}},
			want: map[byte][]element{2: {{
				Min: "00100000000000010000110110111000" + strings.Repeat("0", 95) + "1",
				Max: "00100000000000010000110110111000" + strings.Repeat("0", 94) + "10",
			}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeIPBlocks(t, tc.res.Encode())
			if len(got) != len(tc.want) {
				t.Fatalf("families %v, want %v", got, tc.want)
			}
			for afi, w := range tc.want {
				if !slices.Equal(got[afi], w) {
					t.Errorf("AFI %d: got %v, want %v", afi, got[afi], w)
				}
			}
		})
	}
	// The family order shows in the raw bytes too.
	der := (&encode.IPResources{Prefixes: []netip.Prefix{pfx("::/0"), pfx("0.0.0.0/0")}}).Encode()
	if !bytes.Contains(der, []byte{4, 2, 0, 1}) || bytes.Index(der, []byte{4, 2, 0, 1}) > bytes.Index(der, []byte{4, 2, 0, 2}) {
		t.Errorf("IPv4 must come first: %x", der)
	}
}

func TestASResources(t *testing.T) {
	tests := []struct {
		name string
		res  *encode.ASResources
		want string // hex DER
	}{
		{"inherit", encode.InheritAS(), "3004a0020500"},
		// AS65000 and AS65001 are adjacent and merge into one range.
		{"adjacent ASes merge into a range", encode.ASNs(65001, 65000), "3010a00e300c300a020300fde8020300fde9"},
		{"whole AS space", &encode.ASResources{Ranges: []encode.ASRange{{Min: 0, Max: 4294967295}}}, "3010a00e300c300a020100020500ffffffff"},
		{"separate ASes stay ASIds", encode.ASNs(3, 1), "300aa0083006020101020103"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(tc.res.Encode()); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTimeEncoding(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"UTCTime before 2050", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), "170d3439313233313233353935395a"},
		{"GeneralizedTime from 2050", time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), "180f32303530303130313030303030305a"},
		{"converted to UTC", time.Date(2025, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)), "170d3235303130313030303030305a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(encode.Time(tc.t)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPrimitives(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"integer 0", encode.Integer(0), "020100"},
		{"integer 127", encode.Integer(127), "02017f"},
		{"integer 128 needs a leading zero", encode.Integer(128), "02020080"},
		{"integer -1", encode.Integer(-1), "0201ff"},
		{"integer -129", encode.Integer(-129), "0202ff7f"},
		{"uint32 max", encode.Uint(4294967295), "020500ffffffff"},
		{"OID", encode.ParseOID("1.2.840.113549.1.9.16.1.24").Encode(), "060b2a864886f70d0109100118"},
		{"long length", encode.OctetString(make([]byte, 200))[:3], "0481c8"},
		{"key usage CA", encode.NamedBits(5, 6), "03020106"},
		{"key usage EE", encode.NamedBits(0), "03020780"},
		{"bit string clears unused bits", encode.BitString([]byte{0xff}, 3), "030205e0"},
		{"boolean", encode.Boolean(true), "0101ff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(tc.got); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 24} {
		b := encode.AppendLength(nil, n)
		var v asn1.RawValue
		full := append([]byte{0x04}, b...)
		full = append(full, make([]byte, n)...)
		if _, err := asn1.Unmarshal(full, &v); err != nil || len(v.Bytes) != n {
			t.Errorf("length %d: %v", n, err)
		}
	}
}

func TestCRLCrossCheck(t *testing.T) {
	_, ta := taCert(t)
	l := &encode.CRL{
		Issuer: encode.Name{CommonName: "ta"}, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour),
		Number: big.NewInt(42), AKI: ski(t, caKey.Public()),
		Revoked: []encode.Revoked{{Serial: big.NewInt(7), Time: now.Add(-time.Hour)}, {Serial: big.NewInt(9), Time: now}},
	}
	der, err := l.Encode(caKey)
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("x509 rejects the CRL: %v", err)
	}
	if err := x.CheckSignatureFrom(ta); err != nil {
		t.Errorf("signature: %v", err)
	}
	if x.Number.Int64() != 42 || !x.ThisUpdate.Equal(l.ThisUpdate) || !x.NextUpdate.Equal(l.NextUpdate) {
		t.Errorf("number %v this %v next %v", x.Number, x.ThisUpdate, x.NextUpdate)
	}
	if !bytes.Equal(x.AuthorityKeyId, l.AKI) {
		t.Errorf("AKI %x", x.AuthorityKeyId)
	}
	var serials []int64
	for _, r := range x.RevokedCertificateEntries {
		serials = append(serials, r.SerialNumber.Int64())
	}
	if !slices.Equal(serials, []int64{7, 9}) {
		t.Errorf("revoked %v", serials)
	}
	var tbs struct {
		Raw     asn1.RawContent
		Version int
	}
	if _, err := asn1.Unmarshal(x.RawTBSRevocationList, &tbs); err != nil || tbs.Version != 1 {
		t.Errorf("version %d (%v), want 1 (v2)", tbs.Version, err)
	}

	l.CorruptSignature = true
	der, _ = l.Encode(caKey)
	if x, err := x509.ParseRevocationList(der); err != nil || x.CheckSignatureFrom(ta) == nil {
		t.Errorf("corrupted CRL signature still verifies (parse err %v)", err)
	}
}

// decodeSignedObject checks the CMS framing and signature and returns the
// eContent and the EE certificate.
func decodeSignedObject(t *testing.T, der []byte, wantType encode.OID) ([]byte, *x509.Certificate, error) {
	t.Helper()
	so, err := cmsview.Decode(der)
	if err != nil {
		t.Fatal(err)
	}
	if so.Version != 3 || so.ContentType.String() != wantType.String() {
		t.Fatalf("version %d type %v", so.Version, so.ContentType)
	}
	if so.SignerVersion != 3 || !bytes.Equal(so.SID, so.EE.SubjectKeyId) {
		t.Errorf("signer version %d sid %x, EE SKI %x", so.SignerVersion, so.SID, so.EE.SubjectKeyId)
	}
	var types []string
	for _, a := range so.Attributes {
		types = append(types, a.Type.String())
		if a.Type.String() == "1.2.840.113549.1.9.4" {
			var d []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &d); err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(so.Content)
			if !bytes.Equal(d, want[:]) {
				t.Errorf("messageDigest does not match the eContent")
			}
		}
	}
	// DER sorts the SET OF by encoding, which puts the short signingTime
	// before messageDigest.
	if !slices.Equal(types, []string{"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.5", "1.2.840.113549.1.9.4"}) {
		t.Errorf("signed attributes %v", types)
	}
	return so.Content, so.EE, so.SignatureErr
}

type roaContent struct {
	ASID         int64
	IPAddrBlocks []struct {
		AddressFamily []byte
		Addresses     []struct {
			Address   asn1.BitString
			MaxLength int `asn1:"optional,default:-1"`
		}
	}
}

func TestSignedObjectCrossCheck(t *testing.T) {
	_, ta := taCert(t)
	pfx := netip.MustParsePrefix
	roa := &encode.ROA{ASID: 65000, Prefixes: []encode.ROAPrefix{
		{Prefix: pfx("2001:db8::/32"), MaxLength: 48},
		{Prefix: pfx("192.0.2.0/24"), MaxLength: 24},
		{Prefix: pfx("10.0.0.0/8"), MaxLength: 16},
	}}
	ee := &encode.Cert{
		Serial: big.NewInt(5), Issuer: encode.Name{CommonName: "ta"}, Subject: encode.Name{CommonName: "ee"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), PublicKey: eeKey.Public(),
		AKI: ski(t, caKey.Public()), CRLURI: "rsync://h/m/ta.crl", CAIssuers: "rsync://h/m/ta.cer",
		SignedObject: "rsync://h/m/x.roa", IP: roa.Resources(),
	}
	eeDER, err := ee.Encode(caKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		corrupt bool
	}{
		{"valid", false},
		{"corrupted signature", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			so := &encode.SignedObject{ContentType: encode.OIDCTROA, Content: roa.Encode(), EECert: eeDER,
				SKI: ski(t, eeKey.Public()), SigningTime: now, CorruptSignature: tc.corrupt}
			der, err := so.Encode(eeKey)
			if err != nil {
				t.Fatal(err)
			}
			content, eeCert, sigErr := decodeSignedObject(t, der, encode.OIDCTROA)
			if (sigErr != nil) != tc.corrupt {
				t.Errorf("signature error %v, corrupted %v", sigErr, tc.corrupt)
			}
			if err := eeCert.CheckSignatureFrom(ta); err != nil {
				t.Errorf("EE signature: %v", err)
			}
			var rc roaContent
			if rest, err := asn1.Unmarshal(content, &rc); err != nil || len(rest) > 0 {
				t.Fatalf("ROA content: %v", err)
			}
			if rc.ASID != 65000 || len(rc.IPAddrBlocks) != 2 || rc.IPAddrBlocks[0].AddressFamily[1] != 1 {
				t.Fatalf("ROA %+v", rc)
			}
			v4 := rc.IPAddrBlocks[0].Addresses
			// Sorted: 10/8 (maxLength 16) before 192.0.2.0/24 (no
			// maxLength, it equals the length).
			if len(v4) != 2 || v4[0].Address.BitLength != 8 || v4[0].MaxLength != 16 || v4[1].MaxLength != -1 {
				t.Errorf("IPv4 addresses %+v", v4)
			}
			if v6 := rc.IPAddrBlocks[1].Addresses; len(v6) != 1 || v6[0].MaxLength != 48 {
				t.Errorf("IPv6 addresses %+v", v6)
			}
		})
	}
}

func TestContentEncodings(t *testing.T) {
	t.Run("ASPA version 1, providers sorted and unique", func(t *testing.T) {
		der := (&encode.ASPA{Customer: 65000, Providers: []uint32{65003, 65001, 65003}}).Encode()
		var a struct {
			Version   int `asn1:"explicit,tag:0"`
			Customer  int64
			Providers []int64
		}
		if rest, err := asn1.Unmarshal(der, &a); err != nil || len(rest) > 0 {
			t.Fatal(err)
		}
		if a.Version != 1 || a.Customer != 65000 || !slices.Equal(a.Providers, []int64{65001, 65003}) {
			t.Errorf("ASPA %+v", a)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		h := sha256.Sum256([]byte("x"))
		der := (&encode.Manifest{Number: big.NewInt(3), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
			Files: []encode.FileAndHash{{Name: "a.roa", Hash: h[:]}}}).Encode()
		var m struct {
			Number     *big.Int
			ThisUpdate time.Time `asn1:"generalized"`
			NextUpdate time.Time `asn1:"generalized"`
			HashAlg    asn1.ObjectIdentifier
			Files      []struct {
				Name string `asn1:"ia5"`
				Hash asn1.BitString
			}
		}
		if rest, err := asn1.Unmarshal(der, &m); err != nil || len(rest) > 0 {
			t.Fatal(err)
		}
		if m.Number.Int64() != 3 || !m.ThisUpdate.Equal(now) || m.HashAlg.String() != encode.OIDSHA256.String() ||
			len(m.Files) != 1 || m.Files[0].Name != "a.roa" || !bytes.Equal(m.Files[0].Hash.Bytes, h[:]) {
			t.Errorf("manifest %+v", m)
		}
	})
	t.Run("vCard", func(t *testing.T) {
		v := string((&encode.VCard{FullName: "A", Org: "B", Email: "c@d"}).Encode())
		if !strings.HasPrefix(v, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nORG:B\r\nEMAIL:c@d\r\n") || !strings.HasSuffix(v, "END:VCARD\r\n") {
			t.Errorf("vCard %q", v)
		}
	})
	t.Run("TAL", func(t *testing.T) {
		spki := bytes.Repeat([]byte{0xab}, 100)
		tal := string((&encode.TAL{Comments: []string{"hi"}, URIs: []string{"https://h/ta.cer", "rsync://h/m/ta.cer"}, SPKI: spki}).Encode())
		lines := strings.Split(tal, "\n")
		if lines[0] != "# hi" || lines[1] != "https://h/ta.cer" || lines[2] != "rsync://h/m/ta.cer" || lines[3] != "" || len(lines[4]) != 64 {
			t.Errorf("TAL %q", tal)
		}
	})
}

func TestWrongStringType(t *testing.T) {
	_, _ = taCert(t)
	c := &encode.Cert{Serial: big.NewInt(1), Issuer: encode.Name{CommonName: "ta"},
		Subject:   encode.Name{CommonName: "x", StringTag: encode.TagUTF8String},
		NotBefore: now, NotAfter: now.Add(time.Hour), PublicKey: eeKey.Public()}
	der, err := c.Encode(caKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(der, append([]byte{encode.TagUTF8String, 1}, 'x')) {
		t.Errorf("subject is not a UTF8String")
	}
	c.Extra = []encode.Extension{{OID: encode.OIDKeyUsage, Critical: true, Value: encode.NamedBits(0)}}
	der, _ = c.Encode(caKey)
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Errorf("x509 accepts a duplicated extension")
	}
}

package der_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/der"
)

// testCertificate returns a freshly made X.509 certificate: a realistic,
// deeply nested DER structure with every common element type.
func testCertificate(tb testing.TB) []byte {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(0x1234567890),
		Subject:               pkix.Name{CommonName: "0123456789ABCDEF0123456789ABCDEF01234567"},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		CRLDistributionPoints: []string{"rsync://rpki.example.net/repo/ca.crl"},
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// walkNoAlloc reads every element and the typed values that never need
// to allocate.
func walkNoAlloc(p der.Parser) int {
	n := 0
	for !p.Empty() {
		el, err := p.Next()
		if err != nil {
			return -1
		}
		n++
		switch el.Tag() {
		case der.TagInteger:
			_, _ = el.Integer()
		case der.TagOID:
			_, _ = el.OID()
		case der.TagBitString:
			_, _ = el.BitString()
		case der.TagOctetString:
			_, _ = el.OctetString()
		case der.TagUTCTime, der.TagGeneralizedTime:
			_, _ = el.Time()
		case der.TagPrintableString, der.TagIA5String, der.TagUTF8String:
			_, _ = el.Text()
		case der.TagBoolean:
			_, _ = el.Bool()
		}
		if el.Tag().Constructed() {
			inner, err := el.Children()
			if err != nil {
				return -1
			}
			n += walkNoAlloc(inner)
		}
	}
	return n
}

func TestWalkAllocatesNothing(t *testing.T) {
	cert := testCertificate(t)
	var elements int
	allocs := testing.AllocsPerRun(100, func() {
		elements = walkNoAlloc(der.Parse(cert, der.Strict))
	})
	if elements < 30 {
		t.Fatalf("walked only %d elements", elements)
	}
	if allocs != 0 {
		t.Errorf("walking %d elements allocated %.1f times", elements, allocs)
	}
}

func BenchmarkWalkCertificate(b *testing.B) {
	cert := testCertificate(b)
	elements := walkNoAlloc(der.Parse(cert, der.Strict))
	b.ReportAllocs()
	b.SetBytes(int64(len(cert)))
	b.ResetTimer()
	for b.Loop() {
		walkNoAlloc(der.Parse(cert, der.Strict))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(elements), "ns/element")
	b.ReportMetric(float64(elements), "elements")
}

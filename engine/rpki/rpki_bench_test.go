package rpki_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// baselineSignature is a real signature: the RIPE TA's over its CA
// certificate.
func baselineSignature(b *testing.B) (*rsa.PublicKey, []byte, []byte) {
	read := func(name string) []byte {
		data, err := os.ReadFile(realCorpus + "/" + name)
		if err != nil {
			panic(err)
		}
		return data
	}
	ta, err1 := rpki.ParseCertificate(read("rpki-rs/repository/ta.cer"), der.Relaxed)
	ca, err2 := rpki.ParseCertificate(read("rpki-rs/repository/ca1.cer"), der.Relaxed)
	if err1 != nil || err2 != nil {
		panic("baseline certificates do not decode")
	}
	return ta.RSAKey, ca.TBS, ca.Signature
}

// report adds objects per second.
func report(b *testing.B) {
	b.ReportMetric(1e9*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "objects/s")
}

func BenchmarkRSAVerifyBaseline(b *testing.B) {
	key, signed, sig := baselineSignature(b)
	digest := sha256.Sum256(signed)
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	report(b)
}

// realROA is a Krill ROA with its issuing CA and CRL, valid on the date.
func realROA(b *testing.B) ([]byte, *rpki.Issuer, time.Time) {
	const dir = "krill/v0_13_1_pubserver-repo/rsync/current/"
	ca := mustParse(b, rpki.ParseCertificate, dir+"testbed/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.cer")
	iss := ca.AsIssuer(nil, "")
	iss.CRL = mustParse(b, rpki.ParseCRL, dir+"NLnetLabs/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.crl")
	return readReal(b, dir+"NLnetLabs/0/3138352e34392e3134302e302f32332d3332203d3e2038353837.roa"),
		iss, time.Date(2023, 4, 26, 12, 0, 0, 0, time.UTC)
}

func BenchmarkRealROADecode(b *testing.B) {
	data, _, _ := realROA(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rpki.ParseROA(data, der.Relaxed); err != nil {
			b.Fatal(err)
		}
	}
	report(b)
}

// BenchmarkRealROADecodeReuse decodes into one ROA over and over, as a
// validation worker does.
func BenchmarkRealROADecodeReuse(b *testing.B) {
	data, _, _ := realROA(b)
	var roa rpki.ROA
	b.ReportAllocs()
	for b.Loop() {
		if err := rpki.DecodeROA(&roa, data, der.Relaxed); err != nil {
			b.Fatal(err)
		}
	}
	report(b)
}

// BenchmarkRealROASignature is a ROA decode plus its CMS signature check:
// one RSA verification.
func BenchmarkRealROASignature(b *testing.B) {
	data, _, _ := realROA(b)
	b.ReportAllocs()
	for b.Loop() {
		roa, err := rpki.ParseROA(data, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		if err := roa.VerifyContent(); err != nil {
			b.Fatal(err)
		}
	}
	report(b)
}

// BenchmarkRealROAFull is the whole check of a ROA: decode, CMS signature,
// EE certificate against the issuer's key, validity, revocation and
// resources: two RSA verifications.
func BenchmarkRealROAFull(b *testing.B) {
	data, iss, at := realROA(b)
	b.ReportAllocs()
	for b.Loop() {
		roa, err := rpki.ParseROA(data, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		if ps := roa.Validate(iss, at); len(ps) > 0 {
			b.Fatal(rpki.Join(ps))
		}
	}
	report(b)
}

func BenchmarkRealManifestFull(b *testing.B) {
	w := loadRIPE2019Chain(b)
	data := readReal(b, "rpki-rs/repository/ca1.mft") // BER, constructed eContent
	b.ReportAllocs()
	for b.Loop() {
		m, err := rpki.ParseManifest(data, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		if ps := m.Validate(w.acaIssuer, april2019); len(ps) > 0 {
			b.Fatal(rpki.Join(ps))
		}
	}
	report(b)
}

func BenchmarkRealCRLFull(b *testing.B) {
	w := loadRIPE2019Chain(b)
	data := readReal(b, "rpki-rs/repository/ca1.crl") // 163 revoked serials
	b.ReportAllocs()
	for b.Loop() {
		c, err := rpki.ParseCRL(data, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		if ps := c.Validate(w.acaIssuer, april2019); len(ps) > 0 {
			b.Fatal(rpki.Join(ps))
		}
	}
	report(b)
}

func BenchmarkRealCACertFull(b *testing.B) {
	w := loadRIPE2019Chain(b)
	data := readReal(b, "rpki-rs/repository/ca1.cer")
	b.ReportAllocs()
	for b.Loop() {
		c, err := rpki.ParseCertificate(data, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		if ps := c.Validate(w.taIss, april2019); len(ps) > 0 {
			b.Fatal(rpki.Join(ps))
		}
	}
	report(b)
}

// BenchmarkVersusRSA sets each check beside the RSA verifications it
// cannot avoid. Every iteration runs the check and then that many bare
// RSA-2048 verifications, timing both, so that load on the machine
// affects both alike: x-rsa is the check's time over the verifications'
// time (1.0 would mean decoding, hashing and the other checks are free),
// ns/check and checks/s the check alone.
func BenchmarkVersusRSA(b *testing.B) {
	key, signed, sig := baselineSignature(b)
	digest := sha256.Sum256(signed)
	bare := func() {
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
			panic(err)
		}
	}
	roaData, roaIss, roaAt := realROA(b)
	w := loadRIPE2019Chain(b)
	mftData := readReal(b, "rpki-rs/repository/ca1.mft")
	crlData := readReal(b, "rpki-rs/repository/ca1.crl")
	caData := readReal(b, "rpki-rs/repository/ca1.cer")
	var roa rpki.ROA // reused, as a validation worker does
	cases := []struct {
		name     string
		verifies int
		check    func() error
	}{
		{"ROA-decode+signature", 1, func() error {
			if err := rpki.DecodeROA(&roa, roaData, der.Relaxed); err != nil {
				return err
			}
			return roa.VerifyContent()
		}},
		{"ROA-full", 2, func() error {
			if err := rpki.DecodeROA(&roa, roaData, der.Relaxed); err != nil {
				return err
			}
			return rpki.Join(roa.Validate(roaIss, roaAt))
		}},
		{"manifest-full", 2, func() error {
			m, err := rpki.ParseManifest(mftData, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(m.Validate(w.acaIssuer, april2019))
		}},
		{"CRL-full", 1, func() error {
			c, err := rpki.ParseCRL(crlData, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(c.Validate(w.acaIssuer, april2019))
		}},
		{"CA-cert-full", 1, func() error {
			c, err := rpki.ParseCertificate(caData, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(c.Validate(w.taIss, april2019))
		}},
	}
	g := generatedSample(b)
	var genROA rpki.ROA
	cases = append(cases, []struct {
		name     string
		verifies int
		check    func() error
	}{
		{"generated-ROA-decode+signature", 1, func() error {
			if err := rpki.DecodeROA(&genROA, g.roa, der.Relaxed); err != nil {
				return err
			}
			return genROA.VerifyContent()
		}},
		{"generated-ROA-full", 2, func() error {
			if err := rpki.DecodeROA(&genROA, g.roa, der.Relaxed); err != nil {
				return err
			}
			return rpki.Join(genROA.Validate(g.iss, worldNow))
		}},
		{"generated-manifest-full", 2, func() error {
			m, err := rpki.ParseManifest(g.mft, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(m.Validate(g.iss, worldNow))
		}},
		{"generated-CRL-full", 1, func() error {
			c, err := rpki.ParseCRL(g.crl, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(c.Validate(g.iss, worldNow))
		}},
		{"generated-CA-cert-full", 1, func() error {
			c, err := rpki.ParseCertificate(g.ca, der.Relaxed)
			if err != nil {
				return err
			}
			return rpki.Join(c.Validate(g.parent, worldNow))
		}},
	}...)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var work, verify time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := c.check(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for range c.verifies {
					bare()
				}
				verify += time.Since(t1)
				work += t1.Sub(t0)
			}
			b.ReportMetric(float64(work.Nanoseconds())/float64(b.N), "ns/check")
			b.ReportMetric(float64(b.N)/work.Seconds(), "checks/s")
			b.ReportMetric(float64(work)/float64(verify), "x-rsa")
		})
	}
}

// genSample is one publication point of a generated world: a CA's
// certificate, manifest, CRL and first ROA, with the contexts to check
// them in.
type genSample struct {
	ca, mft, crl, roa []byte
	iss, parent       *rpki.Issuer
}

func generatedSample(b *testing.B) genSample {
	ws, err := smallWorld()
	if err != nil {
		b.Fatal(err)
	}
	w := ws[0]
	objects := map[string][]byte{}
	for _, o := range w.Objects {
		objects[o.URI] = o.Bytes
	}
	var g genSample
	for _, o := range w.Objects {
		if o.Kind != world.KindROA {
			continue
		}
		roa, err := rpki.ParseROA(o.Bytes, der.Relaxed)
		if err != nil {
			b.Fatal(err)
		}
		// The ROA's CA, found by its AKI, and the CA's trust anchor.
		for _, c := range w.Objects {
			if c.Kind != world.KindCACert {
				continue
			}
			cert, err := rpki.ParseCertificate(c.Bytes, der.Relaxed)
			if err != nil || string(cert.SKI) != string(roa.EE.AKI) {
				continue
			}
			for _, ta := range w.TAs {
				tc, err := rpki.ParseCertificate(ta.Cert, der.Relaxed)
				if err != nil || string(tc.SKI) != string(cert.AKI) {
					continue
				}
				g.parent = tc.AsIssuer(nil, "")
				g.ca, g.roa = c.Bytes, o.Bytes
				g.iss = cert.AsIssuer(g.parent, "")
				g.crl, g.mft = objects[roa.EE.CRLURI], objects[cert.Manifest]
				if g.iss.CRL, err = rpki.ParseCRL(g.crl, der.Relaxed); err != nil {
					b.Fatal(err)
				}
				return g
			}
		}
	}
	b.Fatal("no ROA of a CA directly below a trust anchor")
	return g
}

package rpki_test

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

func readReal(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(realCorpus + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse[T rpki.Object](t testing.TB, parse func([]byte, der.Mode) (T, error), name string) T {
	t.Helper()
	obj, err := parse(readReal(t, name), der.Relaxed)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if ps := obj.Problems(); len(ps) > 0 {
		t.Fatalf("%s: %v", name, rpki.Join(ps))
	}
	return obj
}

// wantProblems checks that exactly the expected problems came out: each
// substring must appear in one problem, and nothing else may.
func wantProblems(t *testing.T, what string, got []rpki.Problem, substrings ...string) {
	t.Helper()
	left := append([]rpki.Problem(nil), got...)
	for _, s := range substrings {
		found := -1
		for i := range left {
			if strings.Contains(left[i].Error(), s) {
				found = i
				break
			}
		}
		if found < 0 {
			t.Errorf("%s: no problem mentions %q; got %v", what, s, rpki.Join(got))
			continue
		}
		left = append(left[:found], left[found+1:]...)
	}
	if len(left) > 0 {
		t.Errorf("%s: unexpected problems: %v", what, rpki.Join(left))
	}
}

// ripe2019 is the RIPE NCC trust anchor's publication point as it was in
// April 2019: TA certificate, CRL, manifest and the one CA it issued, with
// that CA's CRL and manifest.
type ripe2019 struct {
	tal              *rpki.TAL
	ta, aca          *rpki.Certificate
	taCRL, acaCRL    *rpki.CRL
	taMft, acaMft    *rpki.Manifest
	taIss, acaIssuer *rpki.Issuer
}

var april2019 = time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC)

func loadRIPE2019(t *testing.T) ripe2019 {
	t.Helper()
	w := loadRIPE2019Chain(t)
	var err error
	if w.tal, err = rpki.ParseTAL(readReal(t, "rpki-rs/repository/ripe.tal")); err != nil {
		t.Fatal(err)
	}
	w.taMft = mustParse(t, rpki.ParseManifest, "rpki-rs/repository/ta.mft")
	w.acaMft = mustParse(t, rpki.ParseManifest, "rpki-rs/repository/ca1.mft")
	w.taIss.CertURI = "rsync://rpki.ripe.net/ta/ripe-ncc-ta.cer"
	w.taIss.CRLURI = "rsync://rpki.ripe.net/repository/ripe-ncc-ta.crl"
	return w
}

// loadRIPE2019Chain loads the certificates and CRLs and sets up the
// issuer contexts.
func loadRIPE2019Chain(t testing.TB) ripe2019 {
	var w ripe2019
	w.ta = mustParse(t, rpki.ParseCertificate, "rpki-rs/repository/ta.cer")
	w.taCRL = mustParse(t, rpki.ParseCRL, "rpki-rs/repository/ta.crl")
	w.aca = mustParse(t, rpki.ParseCertificate, "rpki-rs/repository/ca1.cer")
	w.acaCRL = mustParse(t, rpki.ParseCRL, "rpki-rs/repository/ca1.crl")
	w.taIss = w.ta.AsIssuer(nil, "")
	w.taIss.CRL = w.taCRL
	w.acaIssuer = w.aca.AsIssuer(w.taIss, "")
	w.acaIssuer.CRL = w.acaCRL
	return w
}

func TestValidateRealChain(t *testing.T) {
	w := loadRIPE2019(t)
	wantProblems(t, "TA", w.ta.ValidateTA(w.tal, april2019))
	wantProblems(t, "TA CRL", w.taCRL.Validate(w.taIss, april2019))
	wantProblems(t, "TA manifest", w.taMft.Validate(w.taIss, april2019))
	wantProblems(t, "CA certificate", w.aca.Validate(w.taIss, april2019))
	wantProblems(t, "CA CRL", w.acaCRL.Validate(w.acaIssuer, april2019))
	wantProblems(t, "CA manifest", w.acaMft.Validate(w.acaIssuer, april2019))
	if w.taMft.Stale(april2019) || w.taCRL.Stale(april2019) || w.acaMft.Stale(april2019) {
		t.Error("fresh manifest or CRL reported stale")
	}

	// The TA manifest lists the TA CRL and the CA certificate with the
	// right hashes.
	files := map[string][]byte{
		"ripe-ncc-ta.crl": readReal(t, "rpki-rs/repository/ta.crl"),
		"2a7dd1d787d793e4c8af56e197d4eed92af6ba13.cer": readReal(t, "rpki-rs/repository/ca1.cer"),
	}
	for _, f := range w.taMft.Files {
		data, ok := files[string(f.Name)]
		sum := sha256.Sum256(data)
		if !ok || string(sum[:]) != string(f.Hash) {
			t.Errorf("manifest entry %s does not match its file", f.Name)
		}
	}
}

func TestValidateFailures(t *testing.T) {
	w := loadRIPE2019(t)
	later := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	wantProblems(t, "expired CA", w.aca.Validate(w.taIss, later), "expired at 2020-07-01")
	if !w.acaMft.Stale(later) || !w.acaCRL.Stale(later) {
		t.Error("old manifest or CRL not reported stale")
	}
	earlier := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	wantProblems(t, "CA not yet valid", w.aca.Validate(w.taIss, earlier), "not valid before")
	wantProblems(t, "manifest from the future", w.acaMft.Validate(w.acaIssuer, earlier), "issued in the future", "not valid before")

	// A certificate checked against the wrong issuer: itself.
	wrong := w.aca.AsIssuer(w.taIss, "")
	wantProblems(t, "wrong issuer", w.aca.Validate(wrong, april2019),
		"is not the CA's subject", "is not the CA's SKI", "signature does not verify")

	// Tampered signatures.
	bad := tamper(t, readReal(t, "rpki-rs/repository/ca1.cer"), w.aca.Signature)
	c, err := rpki.ParseCertificate(bad, der.Relaxed)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, "bad signature", c.Validate(w.taIss, april2019), "signature does not verify")

	crlData := readReal(t, "rpki-rs/repository/ta.crl")
	crl, err := rpki.ParseCRL(tamper(t, crlData, w.taCRL.Signature), der.Relaxed)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, "bad CRL signature", crl.Validate(w.taIss, april2019), "signature does not verify")

	// A TAL pinning another key.
	other, err := rpki.ParseTAL(readReal(t, "routinator/tals/arin.tal"))
	if err != nil {
		t.Fatal(err)
	}
	wantProblems(t, "TA against another TAL", w.ta.ValidateTA(other, april2019), "key differs from the one in the TAL")

	// Revocation: put the CA certificate's serial on a CRL by faking one
	// that claims it.
	revoking := *w.taIss
	revoking.CRL = w.acaCRL
	if w.acaCRL.Revoked(w.aca.Serial) {
		t.Fatal("test assumption broken: serial already revoked")
	}
	serials := w.acaCRL.RevokedSerials()
	if len(serials) == 0 {
		t.Fatal("CRL without revocations")
	}
	if !w.acaCRL.Revoked(serials[len(serials)/2]) {
		t.Error("Revoked misses a listed serial")
	}
}

// tamper returns a copy of data with one bit of sig (a sub-slice of data)
// flipped.
func tamper(t *testing.T, data, sig []byte) []byte {
	t.Helper()
	i := strings.Index(string(data), string(sig))
	if i < 0 {
		t.Fatal("signature not found in data")
	}
	out := append([]byte(nil), data...)
	out[i+len(sig)/2] ^= 0x01
	return out
}

// TestValidateKrillROAs validates real Krill ROAs against their CA, and
// against a CA that did not issue them.
func TestValidateKrillROAs(t *testing.T) {
	const dir = "krill/v0_13_1_pubserver-repo/rsync/current/"
	ca := mustParse(t, rpki.ParseCertificate, dir+"testbed/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.cer")
	crl := mustParse(t, rpki.ParseCRL, dir+"NLnetLabs/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.crl")
	other := mustParse(t, rpki.ParseCertificate, dir+"testbed/0/7DC1E81BCB69BE275046D337AB3FBEF76A62354C.cer")
	at := time.Date(2023, 4, 26, 12, 0, 0, 0, time.UTC)
	iss := ca.AsIssuer(nil, "rsync://krill-ui-dev-testbed.krill.cloud/repo/testbed/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.cer")
	iss.CRL, iss.CRLURI = crl, ca.Manifest[:strings.LastIndex(ca.Manifest, "/")+1]+"B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.crl"
	wantProblems(t, "CRL", crl.Validate(iss, at))
	mft := mustParse(t, rpki.ParseManifest, dir+"NLnetLabs/0/B2F9D7A5A5A9D791BE2BB641C9AF19505D100C2F.mft")
	wantProblems(t, "manifest", mft.Validate(iss, at))
	otherIss := other.AsIssuer(nil, "")
	for _, name := range []string{
		"3138352e34392e3134302e302f32332d3332203d3e2038353837.roa",
		"326130343a623930303a3a2f33302d3330203d3e2038353837.roa",
		"326130343a623930343a3a2f34382d3438203d3e20323131333231.roa",
		"326130343a623930353a3a2f33322d313238203d3e20323131333231.roa",
	} {
		roa := mustParse(t, rpki.ParseROA, dir+"NLnetLabs/0/"+name)
		wantProblems(t, name, roa.Validate(iss, at))
		wantProblems(t, name+" against another CA", roa.Validate(otherIss, at),
			"is not the CA's subject", "is not the CA's SKI", "signature does not verify", "resources exceed the issuer's")
		// The EE certificate expired in February 2024.
		wantProblems(t, name+" in 2025", roa.Validate(iss, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), "expired at 2024-02-07")
	}
}

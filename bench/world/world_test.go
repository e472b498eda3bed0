package world_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/internal/cmsview"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func smallConfig(t testing.TB) world.Config {
	t.Helper()
	cfg, err := world.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = testNow
	return cfg
}

var (
	smallOnce  sync.Once
	smallWorld *world.World
	smallErr   error
)

// small returns the small preset world, generated once per test binary
// from the committed keys.
func small(t testing.TB) *world.World {
	t.Helper()
	smallOnce.Do(func() {
		smallWorld, smallErr = world.Generate(context.Background(), smallConfig(t))
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return smallWorld
}

func TestGenerateSmall(t *testing.T) {
	start := time.Now()
	w := small(t)
	t.Logf("small world: %+v (%s)", w.Stats, time.Since(start))
	if w.Stats.CAs != 146 || len(w.TAs) != 2 {
		t.Errorf("%d CAs, %d TAs; want 146 and 2", w.Stats.CAs, len(w.TAs))
	}
	if w.Stats.ROAs < 800 || w.Stats.ROAs > 1300 {
		t.Errorf("%d ROAs, want about 1,000", w.Stats.ROAs)
	}
	kinds := map[world.Kind]int{}
	for _, o := range w.Objects {
		kinds[o.Kind]++
	}
	for _, k := range []world.Kind{world.KindTACert, world.KindCACert, world.KindRouterCert, world.KindCRL,
		world.KindManifest, world.KindROA, world.KindASPA, world.KindGBR, world.KindOther} {
		if kinds[k] == 0 {
			t.Errorf("no object of kind %s", k)
		}
	}
	if kinds[world.KindROA] != w.Stats.ROAs || len(w.Objects) != w.Stats.Objects {
		t.Errorf("stats %+v do not match the objects %v", w.Stats, kinds)
	}
	// Every CA but the two whose manifest or CRL is missing publishes one
	// of each.
	if kinds[world.KindManifest] != 145 || kinds[world.KindCRL] != 145 {
		t.Errorf("%d manifests, %d CRLs; want 145 each", kinds[world.KindManifest], kinds[world.KindCRL])
	}
	got := map[world.FaultKind]int{}
	for _, f := range w.Truth.Faults {
		got[f.Kind]++
	}
	for _, k := range world.FaultKinds {
		if got[k] != 1 {
			t.Errorf("fault %s injected %d times, want once", k, got[k])
		}
	}
	if len(w.Truth.Unsafe) == 0 {
		t.Errorf("no unsafe VRPs arranged")
	}
	if len(w.Truth.ASPAs) == 0 || len(w.Truth.RouterKeys) == 0 {
		t.Errorf("%d ASPAs, %d router keys", len(w.Truth.ASPAs), len(w.Truth.RouterKeys))
	}
}

func TestDeterministic(t *testing.T) {
	a := small(t)
	b, err := world.Generate(context.Background(), smallConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Objects) != len(b.Objects) {
		t.Fatalf("%d objects, then %d", len(a.Objects), len(b.Objects))
	}
	for i := range a.Objects {
		if a.Objects[i].URI != b.Objects[i].URI || !bytes.Equal(a.Objects[i].Bytes, b.Objects[i].Bytes) {
			t.Fatalf("object %d differs: %s / %s", i, a.Objects[i].URI, b.Objects[i].URI)
		}
	}
	ja, _ := json.Marshal(a.Truth)
	jb, _ := json.Marshal(b.Truth)
	if !bytes.Equal(ja, jb) {
		t.Errorf("truth differs")
	}
	cfg := smallConfig(t)
	cfg.Seed = 2
	c, err := world.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if slices.EqualFunc(a.Truth.VRPs, c.Truth.VRPs, func(x, y world.VRP) bool { return x == y }) {
		t.Errorf("another seed gives the same VRPs")
	}
}

type signed struct {
	content []byte
	ee      *x509.Certificate
	sigErr  error
}

func decodeSigned(t *testing.T, uri string, der []byte) signed {
	t.Helper()
	so, err := cmsview.Decode(der)
	if err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	return signed{so.Content, so.EE, so.SignatureErr}
}

func bitsPrefix(b asn1.BitString, v6 bool) netip.Prefix {
	n := 4
	if v6 {
		n = 16
	}
	a := make([]byte, n)
	copy(a, b.Bytes)
	addr, _ := netip.AddrFromSlice(a)
	return netip.PrefixFrom(addr, b.BitLength)
}

func decodeROA(t *testing.T, content []byte, ta string) []world.VRP {
	t.Helper()
	var r struct {
		ASID   int64
		Blocks []struct {
			AFI   []byte
			Addrs []struct {
				Address   asn1.BitString
				MaxLength int `asn1:"optional,default:-1"`
			}
		}
	}
	if _, err := asn1.Unmarshal(content, &r); err != nil {
		t.Fatalf("ROA: %v", err)
	}
	var out []world.VRP
	for _, b := range r.Blocks {
		for _, a := range b.Addrs {
			p := bitsPrefix(a.Address, b.AFI[1] == 2)
			ml := a.MaxLength
			if ml < 0 {
				ml = p.Bits()
			}
			out = append(out, world.VRP{ASN: uint32(r.ASID), Prefix: p, MaxLength: ml, TA: ta})
		}
	}
	return out
}

// lostCAs names the CAs that faults take out, and their descendants.
func lost(w *world.World) func(ca string) bool {
	var roots []string
	for _, f := range w.Truth.Faults {
		if f.Effect == world.EffectCARejected || f.Effect == world.EffectCACertRejected {
			roots = append(roots, f.CA)
		}
	}
	return func(ca string) bool {
		for _, r := range roots {
			if ca == r || strings.HasPrefix(ca, r+"-") {
				return true
			}
		}
		return false
	}
}

func taOf(ca string) string {
	parts := strings.SplitN(ca, "-", 3)
	return parts[0] + "-" + parts[1]
}

// TestTruthConsistent decodes every ROA with encoding/asn1 and checks that
// the truth is exactly the VRPs of the valid ROAs of accepted CAs, and that
// no fault's removed payload shows up.
func TestTruthConsistent(t *testing.T) {
	w := small(t)
	isLost := lost(w)
	faultURIs := map[string]bool{}
	for _, f := range w.Truth.Faults {
		faultURIs[f.URI] = true
	}
	var want []world.VRP
	for _, o := range w.Objects {
		if o.Kind != world.KindROA || isLost(o.CA) || faultURIs[o.URI] {
			continue
		}
		s := decodeSigned(t, o.URI, o.Bytes)
		if s.sigErr != nil {
			t.Errorf("%s: %v", o.URI, s.sigErr)
		}
		want = append(want, decodeROA(t, s.content, taOf(o.CA))...)
	}
	want = world.SortVRPs(want)
	if !slices.Equal(want, w.Truth.VRPs) {
		t.Errorf("truth has %d VRPs, the accepted ROAs give %d", len(w.Truth.VRPs), len(want))
	}
	for _, f := range w.Truth.Faults {
		for _, v := range f.Removes.VRPs {
			if slices.Contains(w.Truth.VRPs, v) {
				t.Errorf("fault %s removes %s, which is in the truth", f.Kind, v)
			}
		}
		switch f.Effect {
		case world.EffectObjectRejected:
			if n := len(f.Removes.VRPs) + len(f.Removes.ASPAs) + len(f.Removes.RouterKeys); n == 0 && f.Kind != world.FaultGBRBadSignature {
				t.Errorf("fault %s removes nothing", f.Kind)
			}
		case world.EffectCARejected, world.EffectCACertRejected:
			if len(f.Removes.VRPs) == 0 {
				t.Errorf("fault %s in %s removes no VRP", f.Kind, f.CA)
			}
		}
	}
	for _, v := range w.Truth.Unsafe {
		if !slices.Contains(w.Truth.VRPs, v) {
			t.Errorf("unsafe VRP %s is not a VRP", v)
		}
	}
}

// TestSignatures checks every signature with crypto/x509: each certificate
// against its issuer, each CRL, and each signed object's CMS signature, and
// that exactly the faults meant to break one do.
func TestSignatures(t *testing.T) {
	w := small(t)
	certs := map[string]*x509.Certificate{} // by rsync URI
	for _, o := range w.Objects {
		if o.Kind == world.KindTACert || o.Kind == world.KindCACert {
			c, err := x509.ParseCertificate(o.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", o.URI, err)
			}
			certs[o.URI] = c
		}
	}
	issuerOf := func(c *x509.Certificate) *x509.Certificate {
		if len(c.IssuingCertificateURL) == 0 {
			return c
		}
		return certs[c.IssuingCertificateURL[0]]
	}
	faultAt := map[string]world.FaultKind{}
	for _, f := range w.Truth.Faults {
		faultAt[f.URI] = f.Kind
	}
	var badCerts, badCRLs, badCMS []world.FaultKind
	for _, o := range w.Objects {
		switch o.Kind {
		case world.KindTACert, world.KindCACert, world.KindRouterCert:
			c, err := x509.ParseCertificate(o.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", o.URI, err)
			}
			iss := issuerOf(c)
			if iss == nil {
				t.Fatalf("%s: no issuer %v", o.URI, c.IssuingCertificateURL)
			}
			if err := c.CheckSignatureFrom(iss); err != nil {
				badCerts = append(badCerts, faultAt[o.URI])
			}
		case world.KindCRL:
			l, err := x509.ParseRevocationList(o.Bytes)
			if err != nil {
				t.Fatalf("%s: %v", o.URI, err)
			}
			found := false
			for _, c := range certs {
				if bytes.Equal(c.SubjectKeyId, l.AuthorityKeyId) {
					found = true
					if err := l.CheckSignatureFrom(c); err != nil {
						badCRLs = append(badCRLs, faultAt[o.URI])
					}
					break
				}
			}
			if !found {
				t.Errorf("%s: no issuer", o.URI)
			}
		case world.KindManifest, world.KindROA, world.KindASPA, world.KindGBR:
			s := decodeSigned(t, o.URI, o.Bytes)
			if s.sigErr != nil {
				badCMS = append(badCMS, faultAt[o.URI])
			}
			if err := s.ee.CheckSignatureFrom(issuerOf(s.ee)); err != nil {
				badCerts = append(badCerts, faultAt[o.URI])
			}
		}
	}
	check := func(what string, got []world.FaultKind, want ...world.FaultKind) {
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("bad %s signatures at faults %v, want %v", what, got, want)
		}
	}
	check("certificate", badCerts, world.FaultCABadSignature, world.FaultROAEEBadSignature)
	check("CRL", badCRLs, world.FaultCRLBadSignature)
	check("CMS", badCMS, world.FaultROABadCMSSignature, world.FaultManifestBadSignature, world.FaultGBRBadSignature)
}

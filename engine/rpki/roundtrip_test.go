package rpki_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// worldNow is the fixed instant generated worlds are made for, so that
// tests are repeatable.
var worldNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// smallWorld generates the small preset once per test binary, with or
// without its faults.
var smallWorld = sync.OnceValues(func() ([2]*world.World, error) {
	var out [2]*world.World
	for i, faults := range []bool{false, true} {
		cfg, err := world.Preset("small")
		if err != nil {
			return out, err
		}
		cfg.Now = worldNow
		if !faults {
			cfg.Faults = 0
		}
		if out[i], err = world.Generate(context.Background(), cfg); err != nil {
			return out, err
		}
	}
	return out, nil
})

func generated(t *testing.T, faults bool) *world.World {
	t.Helper()
	ws, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	if faults {
		return ws[1]
	}
	return ws[0]
}

// walkResult is what walking a generated world found.
type walkResult struct {
	vrps     []world.VRP
	aspas    int
	routers  int
	findings map[string][]string // object URI → what was wrong with it
	missing  map[string]bool     // URIs a manifest lists that are not published
	stale    map[string]bool     // manifests and CRLs past their next update
}

// walkWorld validates a generated world the simple way: from each TA
// down, every CA's CRL, manifest and every file it lists, each against
// its issuer. It follows every CA whatever its findings and keeps the
// payload of objects that decode and validate cleanly; it is a round trip
// through the decoders, not the engine's policies.
func walkWorld(t *testing.T, w *world.World, at time.Time) walkResult {
	t.Helper()
	objects := map[string][]byte{}
	for _, o := range w.Objects {
		objects[o.URI] = o.Bytes
	}
	res := walkResult{findings: map[string][]string{}, missing: map[string]bool{}, stale: map[string]bool{}}
	note := func(uri string, ps []rpki.Problem) {
		for _, p := range ps {
			res.findings[uri] = append(res.findings[uri], p.Error())
		}
	}

	var walkCA func(ta string, iss *rpki.Issuer, depth int)
	walkCA = func(ta string, iss *rpki.Issuer, depth int) {
		if depth > 10 {
			t.Fatal("CA tree deeper than 10")
		}
		ca := iss.Cert
		mftData, ok := objects[ca.Manifest]
		if !ok {
			res.missing[ca.Manifest] = true
			return
		}
		mft, err := rpki.ParseManifest(mftData, der.Relaxed)
		if err != nil {
			res.findings[ca.Manifest] = append(res.findings[ca.Manifest], err.Error())
			return
		}
		note(ca.Manifest, mft.Problems())
		// The manifest's EE certificate names the CRL.
		crlURI := mft.EE.CRLURI
		if crlData, ok := objects[crlURI]; !ok {
			res.missing[crlURI] = true
		} else if crl, err := rpki.ParseCRL(crlData, der.Relaxed); err != nil {
			res.findings[crlURI] = append(res.findings[crlURI], err.Error())
		} else {
			note(crlURI, crl.Problems())
			note(crlURI, crl.Validate(iss, at))
			iss.CRL, iss.CRLURI = crl, crlURI
			if crl.Stale(at) {
				res.stale[crlURI] = true
			}
		}
		note(ca.Manifest, mft.Validate(iss, at))
		if mft.Stale(at) {
			res.stale[ca.Manifest] = true
		}
		for _, f := range mft.Files {
			uri := ca.CARepository + string(f.Name)
			data, ok := objects[uri]
			if !ok {
				res.missing[uri] = true
				continue
			}
			if sum := sha256.Sum256(data); string(sum[:]) != string(f.Hash) {
				res.findings[uri] = append(res.findings[uri], "hash differs from the manifest")
			}
			typ := rpki.TypeFromName(uri)
			if typ == rpki.TypeCRL || typ == rpki.TypeUnknown {
				continue
			}
			obj, err := rpki.Parse(typ, data, der.Relaxed)
			if err != nil {
				res.findings[uri] = append(res.findings[uri], err.Error())
				continue
			}
			note(uri, obj.Problems())
			var ps []rpki.Problem
			switch o := obj.(type) {
			case *rpki.Certificate:
				ps = o.Validate(iss, at)
				if len(o.Problems())+len(ps) > 0 {
					break
				}
				if o.Kind == rpki.CertRouter {
					res.routers++
				} else {
					walkCA(ta, o.AsIssuer(iss, uri), depth+1)
				}
			case *rpki.ROA:
				if ps = o.Validate(iss, at); len(ps)+len(o.Problems()) == 0 {
					for _, p := range o.Prefixes {
						res.vrps = append(res.vrps, world.VRP{ASN: o.ASID, Prefix: p.Prefix, MaxLength: int(p.MaxLength), TA: ta})
					}
				}
			case *rpki.ASPA:
				if ps = o.Validate(iss, at); len(ps)+len(o.Problems()) == 0 {
					res.aspas++
				}
			case *rpki.GBR:
				ps = o.Validate(iss, at)
			}
			note(uri, ps)
		}
	}

	for _, ta := range w.TAs {
		tal, err := rpki.ParseTAL(ta.TAL)
		if err != nil {
			t.Fatalf("TAL of %s: %v", ta.Name, err)
		}
		cert, err := rpki.ParseCertificate(ta.Cert, der.Relaxed)
		if err != nil {
			t.Fatalf("TA %s: %v", ta.Name, err)
		}
		if ps := append(cert.Problems(), cert.ValidateTA(tal, at)...); len(ps) > 0 {
			t.Fatalf("TA %s: %v", ta.Name, rpki.Join(ps))
		}
		walkCA(ta.Name, cert.AsIssuer(nil, ta.RsyncURI), 0)
	}
	return res
}

// TestGeneratedWorldRoundTrip decodes and validates every object of a
// fault-free generated world: each object type round-trips through the
// decoders without a problem, and the VRPs found are exactly the ground
// truth.
func TestGeneratedWorldRoundTrip(t *testing.T) {
	w := generated(t, false)
	res := walkWorld(t, w, worldNow)
	for uri, f := range res.findings {
		t.Errorf("%s: %v", uri, f)
	}
	for uri := range res.missing {
		t.Errorf("%s: listed but not published", uri)
	}
	for uri := range res.stale {
		t.Errorf("%s: stale", uri)
	}
	got := world.SortVRPs(slices.Clone(res.vrps))
	got = slices.Compact(got)
	want := w.Truth.VRPs
	if !slices.Equal(got, want) {
		t.Errorf("found %d VRPs, the truth has %d", len(got), len(want))
	}
	if res.aspas != len(w.Truth.ASPAs) || res.routers != len(w.Truth.RouterKeys) {
		t.Errorf("found %d ASPAs and %d router keys, the truth has %d and %d", res.aspas, res.routers, len(w.Truth.ASPAs), len(w.Truth.RouterKeys))
	}

	// Every kind the generator makes went through its decoder.
	kinds := map[world.Kind]int{}
	for _, o := range w.Objects {
		kinds[o.Kind]++
	}
	for _, k := range []world.Kind{world.KindCACert, world.KindRouterCert, world.KindCRL, world.KindManifest, world.KindROA, world.KindASPA, world.KindGBR} {
		if kinds[k] == 0 {
			t.Errorf("the small world has no %s objects", k)
		}
	}
	t.Logf("round trip: %d objects %v, %d VRPs", len(w.Objects), kinds, len(got))
}

// TestGeneratedFaultsCaught checks that the decoders catch every fault
// the generator injects: the faulty object has a problem, is missing,
// or is stale, whichever the fault is about.
func TestGeneratedFaultsCaught(t *testing.T) {
	w := generated(t, true)
	res := walkWorld(t, w, worldNow)
	if len(w.Truth.Faults) < len(world.FaultKinds) {
		t.Fatalf("only %d faults in the small world", len(w.Truth.Faults))
	}
	for _, f := range w.Truth.Faults {
		t.Run(string(f.Kind), func(t *testing.T) {
			var caught bool
			switch f.Kind {
			case world.FaultFileNotOnManifest:
				// The walk reads only what manifests list, which is the
				// rule this fault is about; its VRPs must not appear.
				caught = true
			case world.FaultManifestFileMissing, world.FaultManifestMissing, world.FaultCRLMissing:
				caught = res.missing[f.URI]
			case world.FaultUnknownObject:
				caught = rpki.TypeFromName(f.URI) == rpki.TypeUnknown
			default:
				caught = len(res.findings[f.URI]) > 0 || res.stale[f.URI]
			}
			if !caught {
				t.Errorf("%s at %s went unnoticed", f.Kind, f.URI)
			}
			if f.Effect == world.EffectObjectRejected || f.Effect == world.EffectObjectIgnored {
				for _, v := range f.Removes.VRPs {
					if slices.Contains(res.vrps, v) {
						t.Errorf("VRP %v of the faulty object was accepted", v)
					}
				}
			}
		})
	}
}

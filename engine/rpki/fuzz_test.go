package rpki_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// maxSeedSize keeps large files out of the seeds: the fuzzer spends its
// time minimizing whatever new input it finds, and a 240 KB seed makes
// that take minutes.
const maxSeedSize = 16 << 10

// seedCorpus adds as seeds the broken objects of testdata/broken and up
// to limit files of the real corpus, with one of the extensions.
func seedCorpus(f *testing.F, limit int, exts ...string) {
	n := 0
	if entries, err := os.ReadDir(brokenDir); err == nil {
		for _, e := range entries {
			for _, ext := range exts {
				if strings.HasSuffix(e.Name(), ext) {
					if data, err := os.ReadFile(filepath.Join(brokenDir, e.Name())); err == nil {
						f.Add(data)
					}
				}
			}
		}
	}
	_ = filepath.WalkDir(realCorpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= limit {
			return err
		}
		for _, ext := range exts {
			if strings.HasSuffix(p, ext) {
				if data, err := os.ReadFile(p); err == nil && len(data) <= maxSeedSize {
					f.Add(data)
					n++
				}
				break
			}
		}
		return nil
	})
	if n == 0 {
		f.Fatalf("no seeds for %v: is ../shared beside the repository?", exts)
	}
}

// checkDecoder checks the invariants every decoder keeps, whatever the
// input: an error and a result never come together; problems are all
// profile problems with a message; Strict mode never accepts what Relaxed
// mode rejects; decoding is deterministic; and the self-contained checks
// and a validation against an unrelated issuer run without panicking.
func checkDecoder[T rpki.Object](t *testing.T, data []byte, parse func([]byte, der.Mode) (T, error), summary func(T) string) {
	var results [2]T
	var errs [2]error
	for i, mode := range []der.Mode{der.Relaxed, der.Strict} {
		obj, err := parse(data, mode)
		results[i], errs[i] = obj, err
		isNil := any(obj) == nil || isNilPointer(obj)
		if (err == nil) == isNil {
			t.Fatalf("mode %v: error %v with result %v", mode, err, obj)
		}
		if err != nil {
			var p *rpki.Problem
			if !errors.As(err, &p) {
				t.Fatalf("mode %v: error is not a *rpki.Problem: %v", mode, err)
			}
			continue
		}
		for _, p := range obj.Problems() {
			if p.Err == nil || p.Stage != rpki.Inspect || p.Err.Error() == "" {
				t.Fatalf("mode %v: malformed problem %+v", mode, p)
			}
		}
		again, err := parse(data, mode)
		if err != nil || summary(again) != summary(obj) || len(again.Problems()) != len(obj.Problems()) {
			t.Fatalf("mode %v: decoding twice gives different results", mode)
		}
		exercise(obj)
	}
	relaxedOK := errs[0] == nil && len(results[0].Problems()) == 0
	strictOK := errs[1] == nil && len(results[1].Problems()) == 0
	if strictOK && !relaxedOK {
		t.Fatalf("strict mode accepts what relaxed mode rejects: %v %v", errs[0], rpki.Join(results[0].Problems()))
	}
	if strictOK && summary(results[0]) != summary(results[1]) {
		t.Fatalf("strict and relaxed decode differently:\n%s\n%s", summary(results[0]), summary(results[1]))
	}
}

func isNilPointer[T any](v T) bool {
	switch p := any(v).(type) {
	case *rpki.Certificate:
		return p == nil
	case *rpki.CRL:
		return p == nil
	case *rpki.Manifest:
		return p == nil
	case *rpki.ROA:
		return p == nil
	case *rpki.ASPA:
		return p == nil
	case *rpki.GBR:
		return p == nil
	case *rpki.RSC:
		return p == nil
	case *rpki.TAK:
		return p == nil
	case *rpki.SPL:
		return p == nil
	case *rpki.TAL:
		return p == nil
	}
	return false
}

// fuzzIssuer is an unrelated CA to validate fuzzed objects against.
var fuzzIssuer = func() *rpki.Issuer {
	data, err := os.ReadFile(realCorpus + "/rpki-rs/repository/ta.cer")
	if err != nil {
		return nil
	}
	ta, err := rpki.ParseCertificate(data, der.Relaxed)
	if err != nil {
		return nil
	}
	crlData, _ := os.ReadFile(realCorpus + "/rpki-rs/repository/ta.crl")
	iss := ta.AsIssuer(nil, "rsync://example.net/ta/ta.cer")
	iss.CRL, _ = rpki.ParseCRL(crlData, der.Relaxed)
	return iss
}()

// exercise runs the checks that take no decoding input.
func exercise(obj rpki.Object) {
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	switch o := obj.(type) {
	case *rpki.Certificate:
		_ = o.Subject.String()
		if fuzzIssuer != nil {
			o.Validate(fuzzIssuer, at)
			o.ValidateTA(nil, at)
		}
	case *rpki.CRL:
		o.Revoked([]byte{1})
		if fuzzIssuer != nil {
			o.Validate(fuzzIssuer, at)
		}
	case *rpki.Manifest:
		_ = o.VerifyContent()
		if fuzzIssuer != nil {
			o.Validate(fuzzIssuer, at)
		}
	case *rpki.ROA:
		_ = o.VerifyContent()
		if fuzzIssuer != nil {
			o.Validate(fuzzIssuer, at)
		}
	case *rpki.ASPA:
		_ = o.VerifyContent()
		if fuzzIssuer != nil {
			o.Validate(fuzzIssuer, at)
		}
	case *rpki.GBR:
		_ = o.VerifyContent()
	}
}

func FuzzParseCertificate(f *testing.F) {
	seedCorpus(f, 40, ".cer")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseCertificate, func(c *rpki.Certificate) string {
			return c.SerialString() + c.Subject.String() + c.Manifest + c.Kind.String()
		})
	})
}

func FuzzParseCRL(f *testing.F) {
	seedCorpus(f, 20, ".crl")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseCRL, func(c *rpki.CRL) string {
			return string(c.Number) + c.Issuer.String() + c.NextUpdate.String()
		})
	})
}

func FuzzParseManifest(f *testing.F) {
	seedCorpus(f, 20, ".mft")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseManifest, func(m *rpki.Manifest) string {
			s := string(m.Number) + m.ThisUpdate.String()
			for _, e := range m.Files {
				s += string(e.Name) + string(e.Hash)
			}
			return s
		})
	})
}

func roaSummary(roa *rpki.ROA) string {
	s := roa.EE.SerialString()
	for _, p := range roa.Prefixes {
		s += " " + p.String()
	}
	return s
}

func FuzzParseROA(f *testing.F) {
	seedCorpus(f, 30, ".roa")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseROA, roaSummary)
	})
}

// FuzzDecodeROAReuse decodes a seed ROA and then the fuzzed data into the
// same ROA: the result must be what a fresh decode gives.
func FuzzDecodeROAReuse(f *testing.F) {
	seedCorpus(f, 10, ".roa")
	first, err := os.ReadFile(realCorpus + "/rpki-validator-3/g11HohjaKcA9vAJV9LrYPq1bKZQ.roa")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var reused rpki.ROA
		if err := rpki.DecodeROA(&reused, first, der.Relaxed); err != nil {
			t.Fatal(err)
		}
		fresh, err := rpki.ParseROA(data, der.Relaxed)
		err2 := rpki.DecodeROA(&reused, data, der.Relaxed)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("fresh: %v, reused: %v", err, err2)
		}
		if err == nil && (roaSummary(fresh) != roaSummary(&reused) || len(fresh.Problems()) != len(reused.Problems())) {
			t.Fatalf("reused ROA differs:\n%s\n%s", roaSummary(fresh), roaSummary(&reused))
		}
	})
}

func FuzzParseASPA(f *testing.F) {
	seedCorpus(f, 20, ".asa")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseASPA, func(a *rpki.ASPA) string {
			s := a.EE.SerialString()
			for _, p := range a.Providers {
				s += " " + string(rune(p))
			}
			return s
		})
	})
}

func FuzzParseGBR(f *testing.F) {
	seedCorpus(f, 10, ".gbr")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseGBR, func(g *rpki.GBR) string { return string(g.VCard) })
	})
}

func FuzzParseRSC(f *testing.F) {
	seedCorpus(f, 10, ".sig")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseRSC, func(c *rpki.RSC) string { return c.EE.SerialString() })
	})
}

func FuzzParseTAK(f *testing.F) {
	seedCorpus(f, 10, ".tak")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseTAK, func(k *rpki.TAK) string { return strings.Join(k.Current.URIs, " ") })
	})
}

func FuzzParseSPL(f *testing.F) {
	seedCorpus(f, 10, ".spl")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, rpki.ParseSPL, func(s *rpki.SPL) string { return s.EE.SerialString() })
	})
}

func FuzzParseTAL(f *testing.F) {
	seedCorpus(f, 40, ".tal")
	f.Add([]byte("# comment\r\nrsync://x/m/ta.cer\r\n\r\nMIIB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tal, err := rpki.ParseTAL(data)
		if (err == nil) != (tal != nil) {
			t.Fatalf("error %v with result %v", err, tal)
		}
		if tal == nil {
			return
		}
		if len(tal.URIs) == 0 || len(tal.SPKI) == 0 || tal.Key == nil {
			t.Fatalf("TAL accepted without URIs or key: %+v", tal)
		}
		for _, u := range tal.URIs {
			if !strings.HasSuffix(strings.ToLower(u), ".cer") {
				t.Fatalf("TAL accepted a URI that names no certificate: %q", u)
			}
		}
	})
}

// FuzzParse drives the type sniffer and the generic entry point with
// anything, as `rovd inspect` does with files of unknown type.
func FuzzParse(f *testing.F) {
	seedCorpus(f, 40, ".der", ".cer", ".roa", ".mft", ".crl", ".asa")
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		defer func() {
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("one input took %v", el)
			}
		}()
		for _, mode := range []der.Mode{der.Relaxed, der.Strict} {
			obj, err := rpki.Parse(rpki.TypeUnknown, data, mode)
			if (err == nil) == (obj == nil) {
				t.Fatalf("error %v with result %v", err, obj)
			}
			if obj != nil {
				exercise(obj)
			}
		}
	})
}

package rpki_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/rovd/rovd/bench/world/encode"
	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

const krillROA = "krill/v0_13_1_pubserver-repo/rsync/current/NLnetLabs/0/3138352e34392e3134302e302f32332d3332203d3e2038353837.roa"

// TestTruncatedEverywhere cuts a ROA, a CRL and a certificate at every
// length: each cut must be refused with an error, never a panic or an
// object.
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{krillROA, "rpki-rs/repository/ta.crl", "rpki-rs/repository/ca1.cer", "rpki-rs/repository/ca1.mft"} {
		data := readReal(t, name)
		typ := rpki.TypeFromName(name)
		for n := range len(data) {
			obj, err := rpki.Parse(typ, data[:n], der.Relaxed)
			if err == nil {
				t.Fatalf("%s cut to %d of %d bytes decoded as %v", name, n, len(data), obj.Type())
			}
		}
	}
}

// TestHostileROAs mutates a valid ROA in place (same lengths, so the
// structure stays parseable up to the mutation) and checks each defect is
// reported where it is.
func TestHostileROAs(t *testing.T) {
	orig := readReal(t, krillROA)
	roa, err := rpki.ParseROA(orig, der.Relaxed)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		i := bytes.Index(orig, []byte(old))
		if i < 0 {
			t.Fatalf("%q not in the ROA", old)
		}
		out := bytes.Clone(orig)
		copy(out[i:], new)
		return out
	}
	uri := roa.EE.SignedObject
	tests := []struct {
		name   string
		data   []byte
		decode error  // an error expected from decoding, or nil
		inName string // else a problem mentioning this
	}{
		{"NUL byte in a URI", replace(uri, strings.Replace(uri, "NLnetLabs", "NLnet\x00abs", 1)), nil, "control or non-ASCII character"},
		{"space in a URI", replace(uri, strings.Replace(uri, "NLnetLabs", "NLnet abs", 1)), nil, "space"},
		{"relative segment in a URI", replace(uri, strings.Replace(uri, "NLnetLabs/0/", "NLnetLab/../", 1)), nil, "relative path segment"},
		{"wrong eContentType", replace("\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x18", "\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x19"), errAny, ""},
		{"length past the end", append(bytes.Clone(orig[:1]), append([]byte{0x84, 0x7f, 0xff, 0xff, 0xff}, orig[4:]...)...), der.ErrTruncated, ""},
		{"trailing garbage", append(bytes.Clone(orig), 0, 0), der.ErrTrailingData, ""},
		{"empty input", nil, der.ErrTruncated, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rpki.ParseROA(tc.data, der.Relaxed)
			if tc.decode != nil {
				if err == nil || tc.decode != errAny && !errors.Is(err, tc.decode) {
					t.Fatalf("err = %v, want %v", err, tc.decode)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode failed: %v", err)
			}
			if !strings.Contains(rpki.Join(got.Problems()).Error(), tc.inName) {
				t.Fatalf("no problem mentions %q: %v", tc.inName, rpki.Join(got.Problems()))
			}
		})
	}
}

// errAny accepts any decoding error.
var errAny = errors.New("any error")

// TestDeepNesting wraps a certificate in ever more indefinite-length
// SEQUENCEs: the depth limit must stop the walk with an error.
func TestDeepNesting(t *testing.T) {
	data := readReal(t, "rpki-rs/repository/ca1.cer")
	for _, depth := range []int{der.MaxDepth, 10_000} {
		nested := bytes.Repeat([]byte{0x30, 0x80}, depth)
		nested = append(nested, data...)
		nested = append(nested, bytes.Repeat([]byte{0, 0}, depth)...)
		if _, err := rpki.Parse(rpki.TypeUnknown, nested, der.Relaxed); err == nil {
			t.Errorf("nesting %d deep decoded", depth)
		}
		_, err := rpki.ParseCertificate(nested, der.Relaxed)
		if err == nil || depth > der.MaxDepth && !errors.Is(err, der.ErrTooDeep) {
			t.Errorf("nesting %d deep: %v", depth, err)
		}
	}
}

// TestStrictMode checks the manual's "Relaxed Decoding": BER encodings
// and non-PrintableString names pass in relaxed mode only.
func TestStrictMode(t *testing.T) {
	tests := []struct {
		file, strictProblem string
		decodeError         error
	}{
		{"rpki-rs/repository/example-ripe.roa", "", der.ErrNotDER},
		{"rpki-rs/repository/ca1.mft", "", der.ErrNotDER},
		{"rpki-rs/repository/router.cer", "UTF8String instead of PrintableString", nil},
		{"rpki-rs/repository/signature-alg-mismatch.mft", "differs from the outer signatureAlgorithm", nil},
		{krillROA, "", nil},
	}
	for _, tc := range tests {
		relaxed, err := rpki.Parse(rpki.TypeFromName(tc.file), readReal(t, tc.file), der.Relaxed)
		if err != nil || len(relaxed.Problems()) > 0 {
			t.Errorf("%s: relaxed mode: %v", tc.file, err)
			continue
		}
		strict, err := rpki.Parse(rpki.TypeFromName(tc.file), readReal(t, tc.file), der.Strict)
		switch {
		case tc.decodeError != nil:
			if !errors.Is(err, tc.decodeError) {
				t.Errorf("%s: strict mode: err = %v, want %v", tc.file, err, tc.decodeError)
			}
		case err != nil:
			t.Errorf("%s: strict mode: %v", tc.file, err)
		case tc.strictProblem == "" && len(strict.Problems()) > 0:
			t.Errorf("%s: strict mode: %v", tc.file, rpki.Join(strict.Problems()))
		case tc.strictProblem != "" && !strings.Contains(rpki.Join(strict.Problems()).Error(), tc.strictProblem):
			t.Errorf("%s: strict mode: want a problem about %q, got %v", tc.file, tc.strictProblem, rpki.Join(strict.Problems()))
		}
	}
}

func TestCheckFileName(t *testing.T) {
	tests := []struct {
		name    string
		relaxed bool
		strict  bool
	}{
		{"Kn3R14fXk-TIr1bhl9Tu2Sr2uhM.crl", true, true},
		{"a_b-c.roa", true, true},
		{"x.asa", true, true},
		{"UPPER.CER", true, false},
		{"long.extension", true, false},
		{"noextension", false, false},
		{".hidden", false, false},
		{"trailingdot.", false, false},
		{"two.dots.cer", false, false},
		{"space .cer", false, false},
		{"slash/x.cer", false, false},
		{"nul\x00.cer", false, false},
		{"caf\xc3\xa9.cer", false, false},
		{"", false, false},
		{strings.Repeat("a", 252) + ".cer", false, false},
	}
	for _, tc := range tests {
		if err := rpki.CheckFileName([]byte(tc.name), der.Relaxed); (err == nil) != tc.relaxed {
			t.Errorf("%q relaxed: %v", tc.name, err)
		}
		if err := rpki.CheckFileName([]byte(tc.name), der.Strict); (err == nil) != tc.strict {
			t.Errorf("%q strict: %v", tc.name, err)
		}
	}
}

// TestOversizedSets builds objects one entry past each list limit: the
// decoder must refuse them with an error naming the limit rather than
// keep allocating.
func TestOversizedSets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds multi-megabyte objects")
	}
	k := newBrokenKit(t)
	const prefixes, providers, entries = 1<<16 + 1, 10_001, 100_001
	var roa encode.ROA
	roa.ASID = 64500
	for i := range prefixes {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		roa.Prefixes = append(roa.Prefixes, encode.ROAPrefix{Prefix: p})
	}
	aspa := encode.ASPA{Customer: 1}
	for i := range providers {
		aspa.Providers = append(aspa.Providers, uint32(i+2))
	}
	mft := k.validManifest()
	for i := range entries {
		mft.Files = append(mft.Files, encode.FileAndHash{Name: fmt.Sprintf("f%d.roa", i), Hash: mft.Files[0].Hash})
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"ROA prefixes", k.roa(t, "big.roa", &roa, nil, nil), "more than 65536 prefixes"},
		{"ASPA providers", k.aspa(t, &aspa, nil), "more than 10000 providers"},
		{"manifest entries", k.manifest(t, mft, nil), "more than 100000 manifest entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rpki.Parse(rpki.Sniff(tc.data), tc.data, der.Relaxed)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

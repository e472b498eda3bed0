package der_test

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/der"
)

func element(t *testing.T, hexIn string, mode der.Mode) der.Element {
	t.Helper()
	p := der.Parse(h(hexIn), mode)
	el, err := p.Next()
	if err != nil {
		t.Fatalf("Next(%s): %v", hexIn, err)
	}
	return el
}

func TestIntegers(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		i64    int64
		i64Err bool
		u64Err bool
		big    string
		err    bool
	}{
		{name: "zero", in: "02 01 00", i64: 0, big: "0"},
		{name: "127", in: "02 01 7f", i64: 127, big: "127"},
		{name: "128", in: "02 02 00 80", i64: 128, big: "128"},
		{name: "-1", in: "02 01 ff", i64: -1, u64Err: true, big: "-1"},
		{name: "-128", in: "02 01 80", i64: -128, u64Err: true, big: "-128"},
		{name: "-129", in: "02 02 ff 7f", i64: -129, u64Err: true, big: "-129"},
		{name: "max uint64", in: "02 09 00 ff ff ff ff ff ff ff ff", i64Err: true, big: "18446744073709551615"},
		{name: "20-octet serial", in: "02 14 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14", i64Err: true, u64Err: true,
			big: "5753854965885600108575829560559299546819203860"},
		{name: "big negative", in: "02 09 80 00 00 00 00 00 00 00 00", i64Err: true, u64Err: true, big: "-2361183241434822606848"},
		{name: "empty", in: "02 00", err: true},
		{name: "leading zero", in: "02 02 00 7f", err: true},
		{name: "leading ff", in: "02 02 ff 80", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			el := element(t, tc.in, der.Strict)
			_, err := el.Integer()
			if tc.err {
				if !errors.Is(err, der.ErrMalformed) {
					t.Fatalf("Integer err = %v, want malformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := el.Int64()
			if (err != nil) != tc.i64Err || err == nil && v != tc.i64 {
				t.Errorf("Int64 = %d, %v", v, err)
			}
			if _, err := el.Uint64(); (err != nil) != tc.u64Err {
				t.Errorf("Uint64 err = %v, want error %v", err, tc.u64Err)
			}
			b, err := el.BigInt()
			if err != nil || b.String() != tc.big {
				t.Errorf("BigInt = %v, %v, want %s", b, err, tc.big)
			}
			// Cross-check against encoding/asn1.
			var ref *big.Int
			if _, err := asn1.Unmarshal(h(tc.in), &ref); err == nil && ref.Cmp(b) != 0 {
				t.Errorf("encoding/asn1 says %v, we say %v", ref, b)
			}
		})
	}
	if _, err := element(t, "02 05 01 00 00 00 00", der.Strict).Uint32(); err == nil {
		t.Error("Uint32 accepted 2^32")
	}
	if v, err := element(t, "02 05 00 ff ff ff ff", der.Strict).Uint32(); err != nil || v != 1<<32-1 {
		t.Errorf("Uint32 max = %d, %v", v, err)
	}
	if _, err := element(t, "22 03 02 01 00", der.Relaxed).Integer(); err == nil {
		t.Error("constructed INTEGER accepted")
	}
}

func TestBoolNull(t *testing.T) {
	if v, err := element(t, "01 01 ff", der.Strict).Bool(); err != nil || !v {
		t.Errorf("TRUE: %v %v", v, err)
	}
	if v, err := element(t, "01 01 00", der.Strict).Bool(); err != nil || v {
		t.Errorf("FALSE: %v %v", v, err)
	}
	if _, err := element(t, "01 01 01", der.Strict).Bool(); !errors.Is(err, der.ErrNotDER) {
		t.Errorf("strict 0x01: %v", err)
	}
	if v, err := element(t, "01 01 01", der.Relaxed).Bool(); err != nil || !v {
		t.Errorf("relaxed 0x01: %v %v", v, err)
	}
	if _, err := element(t, "01 02 ff ff", der.Relaxed).Bool(); err == nil {
		t.Error("two-octet BOOLEAN accepted")
	}
	if err := element(t, "05 00", der.Strict).Null(); err != nil {
		t.Error(err)
	}
	if err := element(t, "05 01 00", der.Strict).Null(); err == nil {
		t.Error("NULL with contents accepted")
	}
}

func TestBitString(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		mode   der.Mode
		bits   int
		set    []int
		errIs  error
		unused uint8
	}{
		{name: "key usage keyCertSign cRLSign", in: "03 02 01 06", mode: der.Strict, bits: 7, set: []int{5, 6}, unused: 1},
		{name: "empty", in: "03 01 00", mode: der.Strict, bits: 0},
		{name: "whole octets", in: "03 03 00 ff 00", mode: der.Strict, bits: 16, set: []int{0, 7}},
		{name: "padding set strict", in: "03 02 01 07", mode: der.Strict, errIs: der.ErrNotDER},
		{name: "padding set relaxed", in: "03 02 01 07", mode: der.Relaxed, bits: 7, set: []int{5, 6}, unused: 1},
		{name: "unused 8", in: "03 02 08 00", mode: der.Relaxed, errIs: der.ErrMalformed},
		{name: "unused without octets", in: "03 01 03", mode: der.Relaxed, errIs: der.ErrMalformed},
		{name: "no unused octet", in: "03 00", mode: der.Relaxed, errIs: der.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs, err := element(t, tc.in, tc.mode).BitString()
			if tc.errIs != nil {
				if !errors.Is(err, tc.errIs) {
					t.Fatalf("err = %v, want %v", err, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bs.Len() != tc.bits || bs.UnusedBits != tc.unused {
				t.Errorf("Len = %d unused = %d, want %d %d", bs.Len(), bs.UnusedBits, tc.bits, tc.unused)
			}
			for _, i := range tc.set {
				if !bs.At(i) {
					t.Errorf("bit %d not set", i)
				}
			}
			if bs.At(-1) || bs.At(tc.bits) {
				t.Error("bit outside the string reported set")
			}
		})
	}
}

func TestOctetString(t *testing.T) {
	in := h("04 03 01 02 03")
	p := der.Parse(in, der.Strict)
	v, err := p.OctetString()
	if err != nil || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Fatalf("primitive = %x, %v", v, err)
	}
	if &v[0] != &in[2] {
		t.Error("primitive OCTET STRING was copied")
	}

	// BER: constructed, indefinite, split in three, one segment nested.
	split := h("24 80 04 02 01 02 24 03 04 01 03 04 00 04 01 04 00 00")
	p = der.Parse(split, der.Relaxed)
	v, err = p.OctetString()
	if err != nil || !bytes.Equal(v, []byte{1, 2, 3, 4}) {
		t.Fatalf("split = %x, %v", v, err)
	}
	if _, err := ptr(der.Parse(split, der.Strict)).OctetString(); !errors.Is(err, der.ErrNotDER) {
		t.Errorf("split in strict mode: %v", err)
	}

	// One segment with data (plus empty ones) comes back in place.
	single := h("24 80 04 00 04 03 0a 0b 0c 00 00")
	p = der.Parse(single, der.Relaxed)
	v, err = p.OctetString()
	if err != nil || !bytes.Equal(v, []byte{10, 11, 12}) {
		t.Fatalf("single = %x, %v", v, err)
	}
	if &v[0] != &single[6] {
		t.Error("single-segment OCTET STRING was copied")
	}

	if _, err := ptr(der.Parse(h("24 03 02 01 00"), der.Relaxed)).OctetString(); !errors.Is(err, der.ErrMalformed) {
		t.Errorf("INTEGER inside constructed OCTET STRING: %v", err)
	}
	if _, err := ptr(der.Parse(h("02 01 00"), der.Relaxed)).OctetString(); !errors.Is(err, der.ErrUnexpectedTag) {
		t.Errorf("INTEGER as OCTET STRING: %v", err)
	}
}

func TestOIDs(t *testing.T) {
	for _, s := range []string{
		"1.2.840.113549.1.1.11",
		"1.2.840.113549.1.9.16.1.24",
		"1.3.6.1.5.5.7.1.7",
		"2.5.29.14",
		"0.0",
		"2.999.3",
		"1.3.6.1.4.1.41948.49",
		"1.2.9223372036854775807",
	} {
		o, err := der.ParseOID(s)
		if err != nil {
			t.Errorf("ParseOID(%s): %v", s, err)
			continue
		}
		if o.String() != s {
			t.Errorf("round trip %s → %x → %s", s, []byte(o), o.String())
		}
		enc := append([]byte{0x06, byte(len(o))}, o...)
		el := element(t, hexOf(enc), der.Strict)
		got, err := el.OID()
		if err != nil || !got.Equal(o) {
			t.Errorf("decode %s: %v", s, err)
		}
		var ref asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(enc, &ref); err == nil && ref.String() != s {
			t.Errorf("encoding/asn1 reads %s as %s", s, ref)
		}
	}
	for _, bad := range []string{"", "1", "3.1", "1.40", "1.x"} {
		if _, err := der.ParseOID(bad); err == nil {
			t.Errorf("ParseOID(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"06 00", "06 02 2a 86", "06 03 2a 80 01"} {
		if _, err := element(t, bad, der.Relaxed).OID(); !errors.Is(err, der.ErrMalformed) {
			t.Errorf("OID %s accepted: %v", bad, err)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestTimes(t *testing.T) {
	utc := func(s string) string { return hexOf(append([]byte{0x17, byte(len(s))}, s...)) }
	gen := func(s string) string { return hexOf(append([]byte{0x18, byte(len(s))}, s...)) }
	date := func(y, mo, d, hh, mm, ss int) time.Time {
		return time.Date(y, time.Month(mo), d, hh, mm, ss, 0, time.UTC)
	}
	tests := []struct {
		name string
		in   string
		mode der.Mode
		want time.Time
		err  bool
	}{
		{"UTCTime 20xx", utc("190406120000Z"), der.Strict, date(2019, 4, 6, 12, 0, 0), false},
		{"UTCTime 19xx", utc("500101000000Z"), der.Strict, date(1950, 1, 1, 0, 0, 0), false},
		{"UTCTime 2049", utc("491231235959Z"), der.Strict, date(2049, 12, 31, 23, 59, 59), false},
		{"GeneralizedTime", gen("21170101000000Z"), der.Strict, date(2117, 1, 1, 0, 0, 0), false},
		{"leap day", gen("20240229000000Z"), der.Strict, date(2024, 2, 29, 0, 0, 0), false},
		{"not a leap day", gen("21000229000000Z"), der.Relaxed, time.Time{}, true},
		{"month 13", utc("191306120000Z"), der.Relaxed, time.Time{}, true},
		{"hour 24", utc("190406240000Z"), der.Relaxed, time.Time{}, true},
		{"no Z", utc("190406120000"), der.Relaxed, time.Time{}, true},
		{"trailing junk", utc("190406120000Zx"), der.Relaxed, time.Time{}, true},
		{"letters", utc("19O406120000Z"), der.Relaxed, time.Time{}, true},
		{"no seconds strict", utc("1904061200Z"), der.Strict, time.Time{}, true},
		{"no seconds relaxed", utc("1904061200Z"), der.Relaxed, date(2019, 4, 6, 12, 0, 0), false},
		{"offset strict", utc("190406120000+0200"), der.Strict, time.Time{}, true},
		{"offset relaxed", utc("190406120000+0200"), der.Relaxed, date(2019, 4, 6, 10, 0, 0), false},
		{"negative offset relaxed", gen("20190406120000-0130"), der.Relaxed, date(2019, 4, 6, 13, 30, 0), false},
		{"fraction strict", gen("20190406120000.5Z"), der.Strict, time.Time{}, true},
		{"fraction relaxed", gen("20190406120000.5Z"), der.Relaxed, date(2019, 4, 6, 12, 0, 0).Add(500 * time.Millisecond), false},
		{"empty fraction", gen("20190406120000.Z"), der.Relaxed, time.Time{}, true},
		{"short", gen("2019"), der.Relaxed, time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := element(t, tc.in, tc.mode).Time()
			if tc.err {
				if err == nil {
					t.Fatalf("accepted as %v", got)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("Time = %v, %v, want %v", got, err, tc.want)
			}
		})
	}
	if _, err := element(t, utc("190406120000Z"), der.Strict).GeneralizedTime(); !errors.Is(err, der.ErrUnexpectedTag) {
		t.Errorf("GeneralizedTime on UTCTime: %v", err)
	}
	if _, err := element(t, "02 01 00", der.Strict).Time(); !errors.Is(err, der.ErrUnexpectedTag) {
		t.Errorf("Time on INTEGER: %v", err)
	}
}

func TestStrings(t *testing.T) {
	str := func(tag byte, s string) string { return hexOf(append([]byte{tag, byte(len(s))}, s...)) }
	tests := []struct {
		name    string
		in      string
		strict  bool // accepted in Strict mode
		relaxed bool // accepted in Relaxed mode
		display string
	}{
		{"printable", str(0x13, "RIPE NCC (test) 1:2"), true, true, "RIPE NCC (test) 1:2"},
		{"printable underscore", str(0x13, "ca_teste"), false, true, "ca_teste"},
		{"printable star", str(0x13, "*.example"), false, true, "*.example"},
		{"printable NUL", str(0x13, "a\x00b"), false, false, ""},
		{"printable non-ASCII", str(0x13, "caf\xc3\xa9"), false, false, ""},
		{"ia5", str(0x16, "rsync://rpki.example.net/repo/"), true, true, "rsync://rpki.example.net/repo/"},
		{"ia5 high bit", str(0x16, "caf\xe9"), false, false, ""},
		{"utf8", str(0x0c, "caf\xc3\xa9"), true, true, "café"},
		{"utf8 invalid", str(0x0c, "caf\xe9"), false, false, ""},
		{"numeric", str(0x12, "12 34"), true, true, "12 34"},
		{"numeric letter", str(0x12, "12a"), false, false, ""},
		{"visible", str(0x1a, "abc~"), true, true, "abc~"},
		{"visible control", str(0x1a, "a\tb"), false, false, ""},
		{"teletex latin-1", str(0x14, "caf\xe9"), true, true, "café"},
		{"bmp", "1e 04 00 63 00 e9", true, true, "cé"},
		{"bmp odd", "1e 03 00 63 00", false, false, ""},
		{"universal", "1c 04 00 01 f6 00", true, true, "😀"},
		{"universal short", "1c 03 00 00 63", false, false, ""},
		{"not a string", "02 01 00", false, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []struct {
				mode der.Mode
				ok   bool
			}{{der.Strict, tc.strict}, {der.Relaxed, tc.relaxed}} {
				el := element(t, tc.in, m.mode)
				v, err := el.Text()
				if (err == nil) != m.ok {
					t.Errorf("%v: err = %v, want ok %v", m.mode, err, m.ok)
				}
				if err == nil && der.DecodeText(el.Tag(), v) != tc.display {
					t.Errorf("%v: DecodeText = %q, want %q", m.mode, der.DecodeText(el.Tag(), v), tc.display)
				}
			}
		})
	}
	if !der.IsString(der.TagIA5String) || der.IsString(der.TagInteger) || der.IsString(der.Implicit(22)) {
		t.Error("IsString")
	}
	if err := der.CheckString(der.TagIA5String, []byte("rsync://x/\xff"), der.Relaxed); err == nil {
		t.Error("CheckString IA5 accepted a high octet")
	}
	if err := der.CheckString(der.TagInteger, nil, der.Relaxed); err == nil {
		t.Error("CheckString accepted INTEGER as a string type")
	}
}

// TestTimeMatchesStdlib compares the decoder's calendar arithmetic with
// time.Date over every day from 1950 to 2150 and a spread of times.
func TestTimeMatchesStdlib(t *testing.T) {
	for d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2150; d = d.AddDate(0, 0, 1) {
		want := d.Add(time.Duration(d.YearDay()*997) * time.Second % (24 * time.Hour))
		s := want.Format("20060102150405Z")
		got, err := element(t, hexOf(append([]byte{0x18, byte(len(s))}, s...)), der.Strict).Time()
		if err != nil || !got.Equal(want) {
			t.Fatalf("%s: got %v, %v", s, got, err)
		}
	}
}

func TestCheckTime(t *testing.T) {
	if err := element(t, hexOf(append([]byte{0x17, 13}, "190406120000Z"...)), der.Strict).CheckTime(); err != nil {
		t.Error(err)
	}
	if err := element(t, hexOf(append([]byte{0x17, 13}, "191306120000Z"...)), der.Strict).CheckTime(); err == nil {
		t.Error("month 13 passed CheckTime")
	}
}

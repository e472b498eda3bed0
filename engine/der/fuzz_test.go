package der_test

import (
	"bytes"
	"testing"

	"github.com/rovd/rovd/engine/der"
)

// walkAll visits every element in p depth first, calling every accessor
// on primitive ones, and returns how many elements it saw.
func walkAll(t *testing.T, p der.Parser, check func(der.Element)) (int, error) {
	n := 0
	for !p.Empty() {
		el, err := p.Next()
		if err != nil {
			return n, err
		}
		n++
		check(el)
		if el.Tag().Constructed() {
			inner, err := el.Children()
			if err != nil {
				return n, err
			}
			m, err := walkAll(t, inner, check)
			n += m
			if err != nil {
				return n, err
			}
		}
		// Accessors must never panic, whatever the bytes.
		_, _ = el.Integer()
		_, _ = el.Int64()
		_, _ = el.Uint64()
		_, _ = el.BigInt()
		if o, err := el.OID(); err == nil {
			_ = o.String()
		}
		_, _ = el.BitString()
		_, _ = el.OctetString()
		_, _ = el.Time()
		if s, err := el.Text(); err == nil {
			_ = der.DecodeText(el.Tag(), s)
		}
		_, _ = el.Bool()
		_ = el.Null()
	}
	return n, nil
}

// encodeHeader writes the DER identifier and length octets for tag and n.
func encodeHeader(tag der.Tag, n int) []byte {
	b := byte(tag.Class()) << 6
	if tag.Constructed() {
		b |= 0x20
	}
	var out []byte
	if tag.Number() < 31 {
		out = append(out, b|byte(tag.Number()))
	} else {
		out = append(out, b|0x1f)
		var digits []byte
		for v := tag.Number(); ; v >>= 7 {
			digits = append([]byte{byte(v & 0x7f)}, digits...)
			if v < 0x80 {
				break
			}
		}
		for i := range len(digits) - 1 {
			digits[i] |= 0x80
		}
		out = append(out, digits...)
	}
	if n < 0x80 {
		return append(out, byte(n))
	}
	var l []byte
	for v := n; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	return append(append(out, 0x80|byte(len(l))), l...)
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"30 0a 02 01 05 a0 03 01 01 ff 05 00",
		"30 80 30 80 02 01 05 00 00 00 00",
		"24 80 04 02 01 02 24 03 04 01 03 04 00 04 01 04 00 00",
		"9f 81 00 01 ff",
		"17 0d 31 39 30 34 30 36 31 32 30 30 30 30 5a",
		"06 09 2a 86 48 86 f7 0d 01 01 0b",
		"03 02 01 06",
	} {
		f.Add(h(seed))
	}
	f.Add(testCertificate(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		strictCount, strictErr := walkAll(t, der.Parse(data, der.Strict), func(el der.Element) {
			hdr := len(el.Raw) - len(el.Content())
			if el.Indefinite() {
				t.Fatalf("indefinite length in strict mode at %d", el.Offset())
			}
			if want := encodeHeader(el.Tag(), len(el.Content())); !bytes.Equal(el.Raw[:hdr], want) {
				t.Fatalf("strict element at %d: header %x is not the DER header %x", el.Offset(), el.Raw[:hdr], want)
			}
		})
		relaxedCount, relaxedErr := walkAll(t, der.Parse(data, der.Relaxed), func(el der.Element) {
			tail := 0
			if el.Indefinite() {
				tail = 2
			}
			hdr := len(el.Raw) - len(el.Content()) - tail
			if hdr < 2 || !bytes.Equal(el.Raw[hdr:hdr+len(el.Content())], el.Content()) {
				t.Fatalf("element at %d: content is not inside raw", el.Offset())
			}
			if el.Offset() < 0 || el.Offset()+len(el.Raw) > len(data) || !bytes.Equal(data[el.Offset():el.Offset()+len(el.Raw)], el.Raw) {
				t.Fatalf("element at %d: offset does not locate raw in the input", el.Offset())
			}
		})
		// DER is a subset of BER: what strict mode reads, relaxed mode reads
		// the same way.
		if strictErr == nil && (relaxedErr != nil || relaxedCount != strictCount) {
			t.Fatalf("strict read %d elements, relaxed %d with %v", strictCount, relaxedCount, relaxedErr)
		}
	})
}

package der_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/rovd/rovd/engine/der"
)

// h decodes hex written with spaces for readability.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestNextHeaders(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		mode    der.Mode
		tag     der.Tag
		content string
		err     error
	}{
		{"short length", "04 02 aa bb", der.Strict, der.TagOctetString, "aabb", nil},
		{"zero length", "05 00", der.Strict, der.TagNull, "", nil},
		{"long length", "04 81 80 " + strings.Repeat("00", 128), der.Strict, der.TagOctetString, strings.Repeat("00", 128), nil},
		{"long length below 128 strict", "04 81 02 aa bb", der.Strict, der.Tag(0), "", der.ErrNotDER},
		{"long length below 128 relaxed", "04 81 02 aa bb", der.Relaxed, der.TagOctetString, "aabb", nil},
		{"length leading zero strict", "04 82 00 80 " + strings.Repeat("00", 128), der.Strict, der.Tag(0), "", der.ErrNotDER},
		{"length leading zero relaxed", "04 82 00 02 aa bb", der.Relaxed, der.TagOctetString, "aabb", nil},
		{"reserved length octet", "04 ff", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"length past data", "04 05 aa", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"length octets cut", "04 83 01", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"length over 4 GiB", "04 85 01 00 00 00 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"no length", "04", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"high tag number", "9f 81 00 01 ff", der.Strict, der.NewTag(der.ContextSpecific, false, 128), "ff", nil},
		{"high tag 31", "5f 1f 00", der.Strict, der.NewTag(der.Application, false, 31), "", nil},
		{"high tag number below 31", "9f 1e 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"high tag leading zero digit", "9f 80 7f 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"high tag too long", "9f ff ff ff ff ff 7f 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"high tag cut", "9f 81", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"private constructed", "e1 00", der.Strict, der.NewTag(der.Private, true, 1), "", nil},
		{"end-of-contents outside indefinite", "00 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"indefinite strict", "30 80 05 00 00 00", der.Strict, der.Tag(0), "", der.ErrNotDER},
		{"indefinite relaxed", "30 80 05 00 00 00", der.Relaxed, der.TagSequence, "0500", nil},
		{"indefinite nested", "30 80 30 80 02 01 05 00 00 00 00", der.Relaxed, der.TagSequence, "3080020105 0000", nil},
		{"indefinite primitive", "04 80 00 00", der.Relaxed, der.Tag(0), "", der.ErrMalformed},
		{"indefinite without end", "30 80 05 00", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"indefinite with bad inner", "30 80 04 05 00 00", der.Relaxed, der.Tag(0), "", der.ErrTruncated},
		{"constructed octet string strict", "24 04 04 02 aa bb", der.Strict, der.Tag(0), "", der.ErrNotDER},
		{"constructed octet string relaxed", "24 04 04 02 aa bb", der.Relaxed, der.NewTag(der.Universal, true, 4), "0402aabb", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := h(tc.in)
			p := der.Parse(in, tc.mode)
			el, err := p.Next()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if el.Tag() != tc.tag {
				t.Errorf("tag = %v, want %v", el.Tag(), tc.tag)
			}
			if want := h(tc.content); !bytes.Equal(el.Content(), want) {
				t.Errorf("content = %x, want %x", el.Content(), want)
			}
			if !bytes.Equal(el.Raw, in) {
				t.Errorf("raw = %x, want the whole input %x", el.Raw, in)
			}
			if err := p.Done(); err != nil {
				t.Errorf("Done: %v", err)
			}
		})
	}
}

func TestChildrenAndOffsets(t *testing.T) {
	// SEQUENCE { INTEGER 5, [0] { BOOLEAN TRUE }, NULL }
	in := h("30 0a 02 01 05 a0 03 01 01 ff 05 00")
	p := der.Parse(in, der.Strict)
	seq, err := p.Sequence()
	if err != nil {
		t.Fatal(err)
	}
	n, err := seq.Integer()
	if err != nil || !bytes.Equal(n, []byte{5}) {
		t.Fatalf("Integer = %x, %v", n, err)
	}
	if got := seq.Offset(); got != 5 {
		t.Errorf("offset after INTEGER = %d, want 5", got)
	}
	inner, ok, err := seq.OptionalExplicit(0)
	if err != nil || !ok {
		t.Fatalf("OptionalExplicit = %v, %v", ok, err)
	}
	b, err := inner.Expect(der.TagBoolean)
	if err != nil {
		t.Fatal(err)
	}
	if b.Offset() != 7 {
		t.Errorf("BOOLEAN offset = %d, want 7", b.Offset())
	}
	if v, err := b.Bool(); err != nil || !v {
		t.Errorf("Bool = %v, %v", v, err)
	}
	if _, ok, err := seq.OptionalExplicit(1); ok || err != nil {
		t.Errorf("absent [1] reported as present (%v)", err)
	}
	if _, err := seq.Expect(der.TagInteger); !errors.Is(err, der.ErrUnexpectedTag) {
		t.Errorf("Expect wrong tag: err = %v", err)
	}
	// The failed Expect consumed the NULL; the sequence is now empty.
	if !seq.Empty() {
		t.Error("sequence not empty")
	}
	if err := p.Done(); err != nil {
		t.Error(err)
	}
	var de *der.Error
	q := der.Parse(h("05 00 05 00"), der.Strict)
	_, _ = q.Next()
	if err := q.Done(); !errors.As(err, &de) || de.Offset != 2 || !errors.Is(err, der.ErrTrailingData) {
		t.Errorf("Done = %v, want trailing data at offset 2", err)
	}
	if _, err := ptr(der.Parse(h("02 01 00"), der.Strict)).Next(); err != nil {
		t.Error(err)
	}
	el, _ := ptr(der.Parse(h("02 01 00"), der.Strict)).Next()
	if _, err := el.Children(); !errors.Is(err, der.ErrMalformed) {
		t.Errorf("Children of a primitive: %v", err)
	}
}

func TestDepthBound(t *testing.T) {
	build := func(levels int, indefinite bool) []byte {
		var b []byte
		if indefinite {
			for range levels {
				b = append(b, 0x30, 0x80)
			}
			for range levels {
				b = append(b, 0, 0)
			}
			return b
		}
		b = []byte{0x05, 0x00}
		for range levels {
			b = append([]byte{0x30, byte(len(b))}, b...)
			if len(b) > 120 {
				break
			}
		}
		return b
	}
	// Walk as deep as the data goes.
	var walk func(p der.Parser) error
	walk = func(p der.Parser) error {
		for !p.Empty() {
			el, err := p.Next()
			if err != nil {
				return err
			}
			if el.Tag().Constructed() {
				inner, err := el.Children()
				if err != nil {
					return err
				}
				if err := walk(inner); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(der.Parse(build(der.MaxDepth, true), der.Relaxed)); err != nil {
		t.Errorf("%d levels of indefinite nesting: %v", der.MaxDepth, err)
	}
	if err := walk(der.Parse(build(der.MaxDepth+1, true), der.Relaxed)); !errors.Is(err, der.ErrTooDeep) {
		t.Errorf("%d levels: err = %v, want ErrTooDeep", der.MaxDepth+1, err)
	}
	if err := walk(der.Parse(build(100_000, true), der.Relaxed)); !errors.Is(err, der.ErrTooDeep) {
		t.Errorf("100000 levels: err = %v, want ErrTooDeep", err)
	}
	deep := []byte{0x05, 0x00}
	for range der.MaxDepth + 5 {
		deep = append(append([]byte{0x30, 0x84}, be32(len(deep))...), deep...)
	}
	if err := walk(der.Parse(deep, der.Relaxed)); !errors.Is(err, der.ErrTooDeep) {
		t.Errorf("definite nesting past MaxDepth: err = %v", err)
	}
}

func ptr(p der.Parser) *der.Parser { return &p }

func be32(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

func TestOptionalAtEnd(t *testing.T) {
	p := der.Parse(nil, der.Strict)
	if _, ok, err := p.Optional(der.TagNull); ok || err != nil {
		t.Errorf("Optional on empty = %v, %v", ok, err)
	}
	if _, err := p.Next(); !errors.Is(err, der.ErrTruncated) {
		t.Errorf("Next on empty = %v", err)
	}
	if _, err := p.PeekTag(); !errors.Is(err, der.ErrTruncated) {
		t.Errorf("PeekTag on empty = %v", err)
	}
	p = der.Parse(h("9f"), der.Strict)
	if _, _, err := p.Optional(der.TagNull); !errors.Is(err, der.ErrTruncated) {
		t.Errorf("Optional on a cut tag = %v", err)
	}
}

func TestTagString(t *testing.T) {
	tests := map[der.Tag]string{
		der.TagSequence:                              "SEQUENCE",
		der.Explicit(0):                              "[0] constructed",
		der.Implicit(6):                              "[6]",
		der.NewTag(der.Application, false, 3):        "[APPLICATION 3]",
		der.NewTag(der.Private, true, 200):           "[PRIVATE 200] constructed",
		der.NewTag(der.Universal, false, 99):         "[UNIVERSAL 99]",
		der.TagOID:                                   "OBJECT IDENTIFIER",
		der.NewTag(der.ContextSpecific, false, 8191): "[8191]",
	}
	for tag, want := range tests {
		if got := tag.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", tag, got, want)
		}
	}
	if der.Strict.String() != "Strict" || der.ContextSpecific.String() != "ContextSpecific" {
		t.Error("enum strings")
	}
}

func TestTagPacking(t *testing.T) {
	for _, c := range []der.Class{der.Universal, der.Application, der.ContextSpecific, der.Private} {
		for _, constructed := range []bool{false, true} {
			for _, n := range []uint32{0, 1, 30, 31, 128, der.MaxTagNumber} {
				tag := der.NewTag(c, constructed, n)
				if tag.Class() != c || tag.Constructed() != constructed || tag.Number() != n {
					t.Errorf("NewTag(%v, %v, %d) unpacks to %v %v %d", c, constructed, n, tag.Class(), tag.Constructed(), tag.Number())
				}
			}
		}
	}
	if der.TagSequence != der.NewTag(der.Universal, true, 16) || der.Explicit(3) != der.NewTag(der.ContextSpecific, true, 3) {
		t.Error("tag constants do not match NewTag")
	}
	// A tag number beyond MaxTagNumber is refused when decoding.
	if _, err := ptr(der.Parse(h("9f c0 00 00"), der.Relaxed)).Next(); !errors.Is(err, der.ErrMalformed) {
		t.Errorf("tag number 8192: %v", err)
	}
}

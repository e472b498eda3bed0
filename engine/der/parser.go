package der

import (
	"fmt"
	"math"
)

// Mode selects how strictly the encoding rules are applied.
type Mode uint8

const (
	// Relaxed accepts the BER forms real repositories contain, as the
	// manual's "Relaxed Decoding" section describes. It is the default.
	Relaxed Mode = iota
	// Strict accepts DER only (X.690 §10, §11).
	Strict
)

// MaxDepth bounds nesting. The deepest RPKI structure, an RFC 3779
// extension inside a certificate inside a CMS signed object, is about 15
// levels deep; 64 leaves room for any sane encoding while keeping the
// recursion over indefinite-length values shallow.
const MaxDepth = 64

// maxTagOctets bounds a high tag number: five base-128 octets hold 32 bits.
const maxTagOctets = 5

// Element is one decoded tag-length-value. Raw and Content alias the data
// given to Parse: they stay valid only as long as that data does.
type Element struct {
	Tag Tag
	// Raw is the complete encoding: identifier, length and contents, and
	// for an indefinite length the end-of-contents octets too. Signatures
	// cover Raw (a certificate's TBSCertificate, for example).
	Raw []byte
	// Content holds the contents octets. For an indefinite length it
	// stops before the end-of-contents octets.
	Content []byte
	// Offset is the position of Raw within the data given to Parse.
	Offset int

	headerLen  uint8
	indefinite bool
	mode       Mode
	depth      uint8
}

// Indefinite reports whether the element used the BER indefinite length.
func (e Element) Indefinite() bool { return e.indefinite }

// Mode returns the mode the element was decoded in.
func (e Element) Mode() Mode { return e.mode }

// Children returns a parser over the elements inside a constructed element.
func (e Element) Children() (Parser, error) {
	if !e.Tag.Constructed {
		return Parser{}, newError(e.Offset, ErrMalformed, e.Tag.String()+" is primitive and has no inner elements")
	}
	if int(e.depth)+1 > MaxDepth {
		return Parser{}, newError(e.Offset, ErrTooDeep, "more than "+fmt.Sprint(MaxDepth)+" levels")
	}
	return Parser{
		data:  e.Content,
		off:   e.Offset + int(e.headerLen),
		mode:  e.mode,
		depth: e.depth + 1,
	}, nil
}

// errorf reports a problem with the element itself.
func (e Element) errorf(kind error, format string, args ...any) *Error {
	return newError(e.Offset, kind, fmt.Sprintf(format, args...))
}

// Parser reads consecutive elements from a byte slice. The zero Parser is
// empty. A Parser is a small value: copy it to look ahead.
type Parser struct {
	data  []byte
	off   int
	mode  Mode
	depth uint8
}

// Parse returns a parser over data in the given mode.
func Parse(data []byte, mode Mode) Parser {
	return Parser{data: data, mode: mode}
}

// Empty reports whether all elements have been read.
func (p *Parser) Empty() bool { return len(p.data) == 0 }

// Offset returns the position of the next element within the data given
// to Parse.
func (p *Parser) Offset() int { return p.off }

// Mode returns the parser's mode.
func (p *Parser) Mode() Mode { return p.mode }

// Done returns an error if any data is left: an encoding that carries more
// than its type defines is malformed.
func (p *Parser) Done() error {
	if len(p.data) != 0 {
		return newError(p.off, ErrTrailingData, fmt.Sprintf("%d bytes after the last element", len(p.data)))
	}
	return nil
}

// Next reads the next element, whatever its tag.
func (p *Parser) Next() (Element, error) {
	if len(p.data) == 0 {
		return Element{}, newError(p.off, ErrTruncated, "element expected, found end of data")
	}
	tag, hdr, length, indefinite, err := parseHeader(p.data, p.mode)
	if err != nil {
		err.Offset += p.off
		return Element{}, err
	}
	var total, contentLen int
	if indefinite {
		if int(p.depth)+1 > MaxDepth {
			return Element{}, newError(p.off, ErrTooDeep, "more than "+fmt.Sprint(MaxDepth)+" levels")
		}
		n, err := indefiniteContentLen(p.data[hdr:], p.off+hdr, p.mode, p.depth+1)
		if err != nil {
			return Element{}, err
		}
		contentLen, total = n, hdr+n+2
	} else {
		if length > len(p.data)-hdr {
			return Element{}, newError(p.off, ErrTruncated,
				fmt.Sprintf("%s has length %d but only %d bytes follow", tag, length, len(p.data)-hdr))
		}
		contentLen, total = length, hdr+length
	}
	el := Element{
		Tag:        tag,
		Raw:        p.data[:total:total],
		Content:    p.data[hdr : hdr+contentLen : hdr+contentLen],
		Offset:     p.off,
		headerLen:  uint8(hdr),
		indefinite: indefinite,
		mode:       p.mode,
		depth:      p.depth,
	}
	p.data = p.data[total:]
	p.off += total
	return el, nil
}

// Expect reads the next element and fails unless it has tag t.
func (p *Parser) Expect(t Tag) (Element, error) {
	off := p.off
	el, err := p.Next()
	if err != nil {
		return Element{}, err
	}
	if el.Tag != t {
		return Element{}, newError(off, ErrUnexpectedTag, "expected "+t.String()+", found "+el.Tag.String())
	}
	return el, nil
}

// Optional reads the next element if it has tag t. It reports false, and
// consumes nothing, if the data is exhausted or the next tag differs.
func (p *Parser) Optional(t Tag) (Element, bool, error) {
	if len(p.data) == 0 {
		return Element{}, false, nil
	}
	next, _, _, _, err := parseHeader(p.data, p.mode)
	if err != nil {
		err.Offset += p.off
		return Element{}, false, err
	}
	if next != t {
		return Element{}, false, nil
	}
	el, err2 := p.Next()
	if err2 != nil {
		return Element{}, false, err2
	}
	return el, true, nil
}

// PeekTag returns the tag of the next element without consuming it.
func (p *Parser) PeekTag() (Tag, error) {
	if len(p.data) == 0 {
		return Tag{}, newError(p.off, ErrTruncated, "element expected, found end of data")
	}
	t, _, _, _, err := parseHeader(p.data, p.mode)
	if err != nil {
		err.Offset += p.off
		return Tag{}, err
	}
	return t, nil
}

// Sequence reads a SEQUENCE and returns a parser over its elements.
func (p *Parser) Sequence() (Parser, error) {
	el, err := p.Expect(TagSequence)
	if err != nil {
		return Parser{}, err
	}
	return el.Children()
}

// Set reads a SET and returns a parser over its elements.
func (p *Parser) Set() (Parser, error) {
	el, err := p.Expect(TagSet)
	if err != nil {
		return Parser{}, err
	}
	return el.Children()
}

// Explicit reads the constructed context-specific element [n] and returns
// a parser over its contents (an EXPLICIT tag's inner element).
func (p *Parser) Explicit(n uint32) (Parser, error) {
	el, err := p.Expect(Explicit(n))
	if err != nil {
		return Parser{}, err
	}
	return el.Children()
}

// OptionalExplicit is Explicit for an OPTIONAL field: it reports false if
// the next element is not [n].
func (p *Parser) OptionalExplicit(n uint32) (Parser, bool, error) {
	el, ok, err := p.Optional(Explicit(n))
	if err != nil || !ok {
		return Parser{}, false, err
	}
	inner, err := el.Children()
	return inner, err == nil, err
}

// Integer reads an INTEGER and returns its minimal two's-complement
// contents octets.
func (p *Parser) Integer() ([]byte, error) {
	el, err := p.Expect(TagInteger)
	if err != nil {
		return nil, err
	}
	return el.Integer()
}

// OID reads an OBJECT IDENTIFIER.
func (p *Parser) OID() (OID, error) {
	el, err := p.Expect(TagOID)
	if err != nil {
		return nil, err
	}
	return el.OID()
}

// OctetString reads an OCTET STRING, in Relaxed mode also in its
// constructed form; see Element.OctetString.
func (p *Parser) OctetString() ([]byte, error) {
	off := p.off
	el, err := p.Next()
	if err != nil {
		return nil, err
	}
	if el.Tag.Class != Universal || el.Tag.Number != TagOctetString.Number {
		return nil, newError(off, ErrUnexpectedTag, "expected OCTET STRING, found "+el.Tag.String())
	}
	return el.OctetString()
}

// parseHeader decodes the identifier and length octets at the start of
// data. It returns the tag, the header length, the contents length (zero
// when indefinite) and whether the length is indefinite. Error offsets are
// relative to data.
func parseHeader(data []byte, mode Mode) (Tag, int, int, bool, *Error) {
	b := data[0]
	tag := Tag{Class: Class(b >> 6), Constructed: b&0x20 != 0, Number: uint32(b & 0x1f)}
	i := 1
	if tag.Number == 0x1f {
		// High tag number form (X.690 §8.1.2.4): base-128 digits, most
		// significant first, bit 8 set on all but the last.
		var n uint64
		for j := 0; ; j++ {
			if i >= len(data) {
				return Tag{}, 0, 0, false, newError(0, ErrTruncated, "identifier octets cut short")
			}
			if j == maxTagOctets {
				return Tag{}, 0, 0, false, newError(0, ErrMalformed, "tag number too large")
			}
			c := data[i]
			i++
			if j == 0 && c == 0x80 {
				return Tag{}, 0, 0, false, newError(0, ErrMalformed, "tag number has a leading zero digit")
			}
			n = n<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if n > math.MaxUint32 {
			return Tag{}, 0, 0, false, newError(0, ErrMalformed, "tag number too large")
		}
		if n < 0x1f {
			// X.690 §8.1.2.2: numbers up to 30 must use the single-octet form.
			return Tag{}, 0, 0, false, newError(0, ErrMalformed, "tag number below 31 in the high-tag form")
		}
		tag.Number = uint32(n)
	} else if tag.Class == Universal && tag.Number == 0 {
		// Universal 0 is reserved for end-of-contents, which may only
		// close an indefinite length.
		return Tag{}, 0, 0, false, newError(0, ErrMalformed, "unexpected end-of-contents")
	}
	if mode == Strict && tag.Class == Universal && tag.Constructed && !constructedUniversal(tag.Number) {
		// X.690 §10.2: DER uses the primitive form for every string type.
		return Tag{}, 0, 0, false, newError(0, ErrNotDER, "constructed "+Tag{Universal, false, tag.Number}.String())
	}
	if i >= len(data) {
		return Tag{}, 0, 0, false, newError(0, ErrTruncated, "length octets missing")
	}
	l := data[i]
	i++
	switch {
	case l < 0x80:
		return tag, i, int(l), false, nil
	case l == 0x80:
		if mode == Strict {
			return Tag{}, 0, 0, false, newError(0, ErrNotDER, "indefinite length")
		}
		if !tag.Constructed {
			// X.690 §8.1.3.2: only constructed encodings may be indefinite.
			return Tag{}, 0, 0, false, newError(0, ErrMalformed, "indefinite length on a primitive element")
		}
		return tag, i, 0, true, nil
	case l == 0xff:
		return Tag{}, 0, 0, false, newError(0, ErrMalformed, "reserved length octet 0xff")
	}
	n := int(l & 0x7f)
	if n > len(data)-i {
		return Tag{}, 0, 0, false, newError(0, ErrTruncated, "length octets cut short")
	}
	var length uint64
	for _, c := range data[i : i+n] {
		if length == 0 && c == 0 && mode == Strict {
			return Tag{}, 0, 0, false, newError(0, ErrNotDER, "length with leading zero octets")
		}
		length = length<<8 | uint64(c)
		// Four octets describe up to 4 GiB, more than any object rovd
		// accepts (max-object-size); a bigger value is an attack.
		if length > math.MaxUint32 {
			return Tag{}, 0, 0, false, newError(0, ErrMalformed, "length above 4 GiB")
		}
	}
	if length < 0x80 && mode == Strict {
		// X.690 §10.1: the short form whenever it fits.
		return Tag{}, 0, 0, false, newError(0, ErrNotDER, "long-form length below 128")
	}
	return tag, i + n, int(length), false, nil
}

// constructedUniversal reports whether a universal type is constructed by
// definition (SEQUENCE, SET, EXTERNAL, EMBEDDED PDV, CHARACTER STRING).
func constructedUniversal(n uint32) bool {
	switch n {
	case 8, 11, 16, 17, 29:
		return true
	}
	return false
}

// indefiniteContentLen finds the end-of-contents octets that close an
// indefinite length, walking (and so checking) every inner element. data
// starts right after the header; off is its position in the input.
func indefiniteContentLen(data []byte, off int, mode Mode, depth uint8) (int, error) {
	inner := Parser{data: data, off: off, mode: mode, depth: depth}
	for {
		if len(inner.data) >= 2 && inner.data[0] == 0 && inner.data[1] == 0 {
			return len(data) - len(inner.data), nil
		}
		if len(inner.data) == 0 {
			return 0, newError(inner.off, ErrTruncated, "end-of-contents missing after indefinite length")
		}
		if _, err := inner.Next(); err != nil {
			return 0, err
		}
	}
}

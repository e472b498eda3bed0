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

// maxTagOctets bounds the octets of a high tag number; MaxTagNumber then
// bounds its value.
const maxTagOctets = 5

// MaxInput is the largest input a Parser accepts: offsets are kept in 31
// bits, and no RPKI object comes near 2 GiB (max-object-size).
const MaxInput = 1<<31 - 1

// Element is one decoded tag-length-value. Raw aliases the data given to
// Parse: it stays valid only as long as that data does.
//
// An Element is four machine words, what the Go compiler keeps in
// registers; a larger struct is copied through memory on every call and
// return, which costs more than decoding the header does. The tag,
// header length, depth, mode and offset are therefore packed into one
// word and read through methods.
type Element struct {
	// Raw is the complete encoding: identifier, length and contents, and
	// for an indefinite length the end-of-contents octets too. Signatures
	// cover Raw (a certificate's TBSCertificate, for example).
	Raw  []byte
	info uint64
}

// Layout of Element.info; Parser.state uses the same positions for the
// depth, mode and offset so an element's info is the parser's state plus
// the tag and header length.
const (
	infoHeaderShift = 16      // bits 16-23: header length
	infoDepthShift  = 24      // bits 24-30: nesting depth
	infoStrict      = 1 << 31 // decoded in Strict mode
	infoIndefinite  = 1 << 32 // BER indefinite length
	infoOffsetShift = 33      // bits 33-63: offset in the input
	infoTooLarge    = 1 << 32 // in Parser.state: the input exceeds MaxInput

	infoContext = 0x7f<<infoDepthShift | infoStrict | (1<<64-1)>>infoOffsetShift<<infoOffsetShift
)

// Tag returns the element's tag.
func (e Element) Tag() Tag { return Tag(e.info) }

// Offset returns the position of Raw within the data given to Parse.
func (e Element) Offset() int { return int(e.info >> infoOffsetShift) }

func (e Element) headerLen() int { return int(e.info >> infoHeaderShift & 0xff) }

func (e Element) depth() int { return int(e.info >> infoDepthShift & 0x7f) }

// Content returns the contents octets. For an indefinite length they stop
// before the end-of-contents octets.
func (e Element) Content() []byte {
	end := len(e.Raw)
	if e.info&infoIndefinite != 0 {
		end -= 2
	}
	return e.Raw[e.headerLen():end]
}

// Indefinite reports whether the element used the BER indefinite length.
func (e Element) Indefinite() bool { return e.info&infoIndefinite != 0 }

// Mode returns the mode the element was decoded in.
func (e Element) Mode() Mode {
	if e.info&infoStrict != 0 {
		return Strict
	}
	return Relaxed
}

// Children returns a parser over the elements inside a constructed element.
func (e Element) Children() (Parser, error) {
	if !e.Tag().Constructed() {
		return Parser{}, errPrimitive(e)
	}
	if e.depth()+1 > MaxDepth {
		return Parser{}, errTooDeep(e.Offset())
	}
	state := e.info&infoContext + 1<<infoDepthShift + uint64(e.headerLen())<<infoOffsetShift
	return Parser{data: e.Content(), state: state}, nil
}

//go:noinline
func errPrimitive(e Element) error {
	return newError(e.Offset(), ErrMalformed, e.Tag().String()+" is primitive and has no inner elements")
}

//go:noinline
func errTooDeep(off int) error {
	return newError(off, ErrTooDeep, "more than "+fmt.Sprint(MaxDepth)+" levels")
}

// errorf reports a problem with the element itself.
func (e Element) errorf(kind error, format string, args ...any) *Error {
	return newError(e.Offset(), kind, fmt.Sprintf(format, args...))
}

// Parser reads consecutive elements from a byte slice. The zero Parser is
// empty. A Parser is a small value (four words, like Element): copy it to
// look ahead.
type Parser struct {
	data  []byte
	state uint64 // depth, mode and offset as in Element.info
}

// Parse returns a parser over data in the given mode.
func Parse(data []byte, mode Mode) Parser {
	var state uint64
	if mode == Strict {
		state |= infoStrict
	}
	if len(data) > MaxInput {
		return Parser{state: state | infoTooLarge}
	}
	return Parser{data: data, state: state}
}

// Empty reports whether all elements have been read.
func (p *Parser) Empty() bool { return len(p.data) == 0 && p.state&infoTooLarge == 0 }

// Offset returns the position of the next element within the data given
// to Parse.
func (p *Parser) Offset() int { return int(p.state >> infoOffsetShift) }

// Mode returns the parser's mode.
func (p *Parser) Mode() Mode {
	if p.state&infoStrict != 0 {
		return Strict
	}
	return Relaxed
}

func (p *Parser) depth() int { return int(p.state >> infoDepthShift & 0x7f) }

// Done returns an error if any data is left: an encoding that carries more
// than its type defines is malformed.
func (p *Parser) Done() error {
	if len(p.data) != 0 {
		return newError(p.Offset(), ErrTrailingData, fmt.Sprintf("%d bytes after the last element", len(p.data)))
	}
	return nil
}

// Next reads the next element, whatever its tag.
func (p *Parser) Next() (Element, error) {
	// Fast path for the headers nearly every element has: a low tag number
	// and a definite length of at most two octets. Anything else, and
	// every error, takes the general path.
	d := p.data
	if len(d) >= 2 {
		b0, l := d[0], d[1]
		hdr, n := 2, int(l)
		switch {
		case l < 0x80:
		case l == 0x81 && len(d) >= 3 && d[2] >= 0x80:
			hdr, n = 3, int(d[2])
		case l == 0x82 && len(d) >= 4 && d[2] != 0:
			hdr, n = 4, int(d[2])<<8|int(d[3])
		default:
			return p.next()
		}
		if simpleIdentifier(b0) && n <= len(d)-hdr {
			total := hdr + n
			tag := Tag(b0>>6)<<classShift | Tag(b0&0x20)<<8 | Tag(b0&0x1f)
			el := Element{Raw: d[:total:total], info: p.state | uint64(hdr)<<infoHeaderShift | uint64(tag)}
			p.data = d[total:]
			p.state += uint64(total) << infoOffsetShift
			return el, nil
		}
	}
	return p.next()
}

// simpleIdentifier reports whether an identifier octet needs no further
// checks: a low tag number, not the reserved universal 0, and not a
// constructed universal type other than SEQUENCE and SET (which Strict
// mode refuses and Relaxed mode checks elsewhere).
func simpleIdentifier(b byte) bool {
	n := b & 0x1f
	if n == 0x1f {
		return false
	}
	if b&0xc0 == 0 && (n == 0 || b&0x20 != 0 && n != 16 && n != 17) {
		return false
	}
	return true
}

// next is the general path of Next.
func (p *Parser) next() (Element, error) {
	off := p.Offset()
	if p.state&infoTooLarge != 0 {
		return Element{}, newError(0, ErrMalformed, fmt.Sprintf("input larger than %d bytes", MaxInput))
	}
	if len(p.data) == 0 {
		return Element{}, newError(off, ErrTruncated, "element expected, found end of data")
	}
	tag, hdr, length, indefinite, herr := parseHeader(p.data, p.Mode())
	if herr != nil {
		herr.Offset += off
		return Element{}, herr
	}
	var total int
	info := p.state | uint64(hdr)<<infoHeaderShift | uint64(tag)
	if indefinite {
		if p.depth()+1 > MaxDepth {
			return Element{}, errTooDeep(off)
		}
		inner := Parser{data: p.data[hdr:], state: p.state&infoContext + 1<<infoDepthShift + uint64(hdr)<<infoOffsetShift}
		n, err := inner.indefiniteContentLen()
		if err != nil {
			return Element{}, err
		}
		total = hdr + n + 2
		info |= infoIndefinite
	} else {
		if length > len(p.data)-hdr {
			return Element{}, newError(off, ErrTruncated,
				fmt.Sprintf("%s has length %d but only %d bytes follow", tag, length, len(p.data)-hdr))
		}
		total = hdr + length
	}
	el := Element{Raw: p.data[:total:total], info: info}
	p.data = p.data[total:]
	p.state += uint64(total) << infoOffsetShift
	return el, nil
}

// Expect reads the next element and fails unless it has tag t.
func (p *Parser) Expect(t Tag) (Element, error) {
	off := p.Offset()
	el, err := p.Next()
	if err != nil {
		return Element{}, err
	}
	if el.Tag() != t {
		return Element{}, errUnexpected(off, t, el.Tag())
	}
	return el, nil
}

//go:noinline
func errUnexpected(off int, want, got Tag) error {
	return newError(off, ErrUnexpectedTag, "expected "+want.String()+", found "+got.String())
}

// Optional reads the next element if it has tag t. It reports false, and
// consumes nothing, if the data is exhausted or the next tag differs.
func (p *Parser) Optional(t Tag) (Element, bool, error) {
	if len(p.data) == 0 {
		return Element{}, false, nil
	}
	next, err := p.PeekTag()
	if err != nil {
		return Element{}, false, err
	}
	if next != t {
		return Element{}, false, nil
	}
	el, err := p.Next()
	if err != nil {
		return Element{}, false, err
	}
	return el, true, nil
}

// PeekTag returns the tag of the next element without consuming it.
func (p *Parser) PeekTag() (Tag, error) {
	if len(p.data) == 0 {
		return 0, newError(p.Offset(), ErrTruncated, "element expected, found end of data")
	}
	if b := p.data[0]; simpleIdentifier(b) {
		return Tag(b>>6)<<classShift | Tag(b&0x20)<<8 | Tag(b&0x1f), nil
	}
	t, _, _, _, err := parseHeader(p.data, p.Mode())
	if err != nil {
		err.Offset += p.Offset()
		return 0, err
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
	off := p.Offset()
	el, err := p.Next()
	if err != nil {
		return nil, err
	}
	if el.Tag()&^constructedBit != TagOctetString {
		return nil, errUnexpected(off, TagOctetString, el.Tag())
	}
	return el.OctetString()
}

// parseHeader decodes the identifier and length octets at the start of
// data. It returns the tag, the header length, the contents length (zero
// when indefinite) and whether the length is indefinite. Error offsets are
// relative to data.
func parseHeader(data []byte, mode Mode) (Tag, int, int, bool, *Error) {
	b := data[0]
	class, constructed, number := Class(b>>6), b&0x20 != 0, uint32(b&0x1f)
	i := 1
	if number == 0x1f {
		// High tag number form (X.690 §8.1.2.4): base-128 digits, most
		// significant first, bit 8 set on all but the last.
		var n uint64
		for j := 0; ; j++ {
			if i >= len(data) {
				return 0, 0, 0, false, newError(0, ErrTruncated, "identifier octets cut short")
			}
			if j == maxTagOctets {
				return 0, 0, 0, false, newError(0, ErrMalformed, "tag number too large")
			}
			c := data[i]
			i++
			if j == 0 && c == 0x80 {
				return 0, 0, 0, false, newError(0, ErrMalformed, "tag number has a leading zero digit")
			}
			n = n<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if n > MaxTagNumber {
			return 0, 0, 0, false, newError(0, ErrMalformed, "tag number too large")
		}
		if n < 0x1f {
			// X.690 §8.1.2.2: numbers up to 30 must use the single-octet form.
			return 0, 0, 0, false, newError(0, ErrMalformed, "tag number below 31 in the high-tag form")
		}
		number = uint32(n)
	} else if class == Universal && number == 0 {
		// Universal 0 is reserved for end-of-contents, which may only
		// close an indefinite length.
		return 0, 0, 0, false, newError(0, ErrMalformed, "unexpected end-of-contents")
	}
	tag := NewTag(class, constructed, number)
	if mode == Strict && class == Universal && constructed && !constructedUniversal(number) {
		// X.690 §10.2: DER uses the primitive form for every string type.
		return 0, 0, 0, false, newError(0, ErrNotDER, "constructed "+NewTag(Universal, false, number).String())
	}
	if i >= len(data) {
		return 0, 0, 0, false, newError(0, ErrTruncated, "length octets missing")
	}
	l := data[i]
	i++
	switch {
	case l < 0x80:
		return tag, i, int(l), false, nil
	case l == 0x80:
		if mode == Strict {
			return 0, 0, 0, false, newError(0, ErrNotDER, "indefinite length")
		}
		if !constructed {
			// X.690 §8.1.3.2: only constructed encodings may be indefinite.
			return 0, 0, 0, false, newError(0, ErrMalformed, "indefinite length on a primitive element")
		}
		return tag, i, 0, true, nil
	case l == 0xff:
		return 0, 0, 0, false, newError(0, ErrMalformed, "reserved length octet 0xff")
	}
	n := int(l & 0x7f)
	if n > len(data)-i {
		return 0, 0, 0, false, newError(0, ErrTruncated, "length octets cut short")
	}
	var length uint64
	for _, c := range data[i : i+n] {
		if length == 0 && c == 0 && mode == Strict {
			return 0, 0, 0, false, newError(0, ErrNotDER, "length with leading zero octets")
		}
		length = length<<8 | uint64(c)
		// Four octets describe up to 4 GiB, more than any object rovd
		// accepts (max-object-size); a bigger value is an attack.
		if length > math.MaxUint32 {
			return 0, 0, 0, false, newError(0, ErrMalformed, "length above 4 GiB")
		}
	}
	if length < 0x80 && mode == Strict {
		// X.690 §10.1: the short form whenever it fits.
		return 0, 0, 0, false, newError(0, ErrNotDER, "long-form length below 128")
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
// indefinite length, walking (and so checking) every inner element. p
// starts right after the header.
func (p Parser) indefiniteContentLen() (int, error) {
	start := len(p.data)
	for {
		if len(p.data) >= 2 && p.data[0] == 0 && p.data[1] == 0 {
			return start - len(p.data), nil
		}
		if len(p.data) == 0 {
			return 0, newError(p.Offset(), ErrTruncated, "end-of-contents missing after indefinite length")
		}
		if _, err := p.Next(); err != nil {
			return 0, err
		}
	}
}

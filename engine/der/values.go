package der

import (
	"math"
	"math/big"
)

// The accessors below interpret an element's contents. They check that the
// element is primitive (or, for OCTET STRING in Relaxed mode, a valid
// constructed string) but not its tag, so they serve IMPLICIT tags as well:
// use Parser.Expect to check the tag first.

func (e Element) primitive(what string) *Error {
	if e.Tag().Constructed() {
		return e.errorf(ErrMalformed, "%s must be primitive", what)
	}
	return nil
}

// Integer returns the contents of an INTEGER: its two's-complement value,
// big-endian, in the fewest octets (X.690 §8.3.2, binding on BER too).
func (e Element) Integer() ([]byte, error) {
	if err := e.primitive("INTEGER"); err != nil {
		return nil, err
	}
	c := e.Content()
	if len(c) == 0 {
		return nil, e.errorf(ErrMalformed, "empty INTEGER")
	}
	if len(c) > 1 && (c[0] == 0x00 && c[1]&0x80 == 0 || c[0] == 0xff && c[1]&0x80 != 0) {
		return nil, e.errorf(ErrMalformed, "INTEGER not in its shortest form")
	}
	return c, nil
}

// Int64 returns an INTEGER that fits in 64 bits.
func (e Element) Int64() (int64, error) {
	c, err := e.Integer()
	if err != nil {
		return 0, err
	}
	if len(c) > 8 {
		return 0, e.errorf(ErrMalformed, "INTEGER too large for 64 bits")
	}
	v := int64(int8(c[0])) // sign-extend the first octet
	for _, b := range c[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// Uint64 returns a non-negative INTEGER that fits in 64 bits.
func (e Element) Uint64() (uint64, error) {
	c, err := e.Integer()
	if err != nil {
		return 0, err
	}
	if c[0]&0x80 != 0 {
		return 0, e.errorf(ErrMalformed, "negative INTEGER")
	}
	if c[0] == 0 {
		c = c[1:]
	}
	if len(c) > 8 {
		return 0, e.errorf(ErrMalformed, "INTEGER too large for 64 bits")
	}
	var v uint64
	for _, b := range c {
		v = v<<8 | uint64(b)
	}
	return v, nil
}

// Uint32 returns a non-negative INTEGER that fits in 32 bits, such as an
// AS number.
func (e Element) Uint32() (uint32, error) {
	v, err := e.Uint64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint32 {
		return 0, e.errorf(ErrMalformed, "INTEGER %d too large for 32 bits", v)
	}
	return uint32(v), nil
}

// BigInt returns an INTEGER of any size. It allocates; hot paths compare
// the contents octets from Integer instead.
func (e Element) BigInt() (*big.Int, error) {
	c, err := e.Integer()
	if err != nil {
		return nil, err
	}
	return IntegerToBig(c), nil
}

// IntegerToBig converts minimal two's-complement octets to a big.Int.
func IntegerToBig(c []byte) *big.Int {
	v := new(big.Int).SetBytes(c)
	if len(c) > 0 && c[0]&0x80 != 0 {
		// Negative: subtract 2^(8·len).
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(c))))
	}
	return v
}

// Bool returns a BOOLEAN. DER encodes TRUE as 0xff only (X.690 §11.1);
// Relaxed mode takes any non-zero octet as TRUE, as BER does.
func (e Element) Bool() (bool, error) {
	if err := e.primitive("BOOLEAN"); err != nil {
		return false, err
	}
	if len(e.Content()) != 1 {
		return false, e.errorf(ErrMalformed, "BOOLEAN must have one octet, has %d", len(e.Content()))
	}
	switch v := e.Content()[0]; {
	case v == 0:
		return false, nil
	case v == 0xff || e.Mode() == Relaxed:
		return true, nil
	default:
		return false, e.errorf(ErrNotDER, "BOOLEAN TRUE encoded as 0x%02x", v)
	}
}

// Null checks that the element has the empty contents of NULL.
func (e Element) Null() error {
	if err := e.primitive("NULL"); err != nil {
		return err
	}
	if len(e.Content()) != 0 {
		return e.errorf(ErrMalformed, "NULL with contents")
	}
	return nil
}

// BitString is the value of a BIT STRING: Bytes hold the bits, first bit
// in the high-order bit of the first octet; the last UnusedBits bits of
// the last octet are padding.
type BitString struct {
	Bytes      []byte
	UnusedBits uint8
}

// Len returns the number of bits.
func (b BitString) Len() int { return len(b.Bytes)*8 - int(b.UnusedBits) }

// At returns bit i (0 is the first), or false past the end.
func (b BitString) At(i int) bool {
	if i < 0 || i >= b.Len() {
		return false
	}
	return b.Bytes[i/8]&(0x80>>(i%8)) != 0
}

// BitString returns a BIT STRING's value. Its first contents octet counts
// the unused bits (X.690 §8.6.2); DER also demands those bits be zero
// (§11.2.1). The constructed BER form is not used in RPKI and is refused.
func (e Element) BitString() (BitString, error) {
	if err := e.primitive("BIT STRING"); err != nil {
		return BitString{}, err
	}
	c := e.Content()
	if len(c) == 0 {
		return BitString{}, e.errorf(ErrMalformed, "BIT STRING without its unused-bits octet")
	}
	unused := c[0]
	if unused > 7 || len(c) == 1 && unused != 0 {
		return BitString{}, e.errorf(ErrMalformed, "BIT STRING with %d unused bits in %d octets", unused, len(c)-1)
	}
	if e.Mode() == Strict && unused > 0 && c[len(c)-1]&(1<<unused-1) != 0 {
		return BitString{}, e.errorf(ErrNotDER, "BIT STRING padding bits not zero")
	}
	return BitString{Bytes: c[1:], UnusedBits: unused}, nil
}

// OctetString returns an OCTET STRING's value. A primitive string returns
// a sub-slice of the input. In Relaxed mode the constructed BER form is
// accepted too (X.690 §8.7.3): if only one segment holds data it is still
// returned in place; several are joined into a new slice, the only
// allocation this package makes. Parser.Next already refused the
// constructed form in Strict mode.
func (e Element) OctetString() ([]byte, error) {
	if !e.Tag().Constructed() {
		return e.Content(), nil
	}
	var first []byte
	segments, total := 0, 0
	err := forEachSegment(e, func(seg []byte) {
		if len(seg) == 0 {
			return
		}
		if segments == 0 {
			first = seg
		}
		segments++
		total += len(seg)
	})
	if err != nil {
		return nil, err
	}
	if segments <= 1 {
		return first, nil
	}
	out := make([]byte, 0, total)
	// The walk succeeded once, so it succeeds again.
	_ = forEachSegment(e, func(seg []byte) { out = append(out, seg...) })
	return out, nil
}

// forEachSegment calls fn with the contents of every primitive segment of
// a constructed OCTET STRING, in order, checking each segment's tag.
func forEachSegment(e Element, fn func([]byte)) error {
	inner, err := e.Children()
	if err != nil {
		return err
	}
	for !inner.Empty() {
		seg, err := inner.Next()
		if err != nil {
			return err
		}
		if seg.Tag()&^constructedBit != TagOctetString {
			return seg.errorf(ErrMalformed, "segment of a constructed OCTET STRING is %s", seg.Tag())
		}
		if seg.Tag().Constructed() {
			if err := forEachSegment(seg, fn); err != nil {
				return err
			}
			continue
		}
		fn(seg.Content())
	}
	return nil
}

package encode

import (
	"bytes"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DER tags used by the builders (X.690 §8, universal class unless noted).
const (
	TagBoolean         = 0x01
	TagInteger         = 0x02
	TagBitString       = 0x03
	TagOctetString     = 0x04
	TagNull            = 0x05
	TagOID             = 0x06
	TagUTF8String      = 0x0c
	TagPrintableString = 0x13
	TagIA5String       = 0x16
	TagUTCTime         = 0x17
	TagGeneralizedTime = 0x18
	TagSequence        = 0x30
	TagSet             = 0x31
)

// AppendLength appends a DER definite length: short form below 128,
// otherwise the minimal long form (X.690 §10.1).
func AppendLength(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	var tmp [8]byte
	i := len(tmp)
	for v := n; v > 0; v >>= 8 {
		i--
		tmp[i] = byte(v)
	}
	dst = append(dst, 0x80|byte(len(tmp)-i))
	return append(dst, tmp[i:]...)
}

// AppendTLV appends one TLV whose value is the concatenation of content.
func AppendTLV(dst []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	dst = append(dst, tag)
	dst = AppendLength(dst, n)
	for _, c := range content {
		dst = append(dst, c...)
	}
	return dst
}

// TLV returns one TLV whose value is the concatenation of content.
func TLV(tag byte, content ...[]byte) []byte {
	n := 6
	for _, c := range content {
		n += len(c)
	}
	return AppendTLV(make([]byte, 0, n), tag, content...)
}

// Sequence returns a SEQUENCE of the given encodings, in order.
func Sequence(content ...[]byte) []byte { return TLV(TagSequence, content...) }

// Set returns a SET of the given encodings in the order given. Use SetOf
// for a DER SET OF, whose elements must be sorted.
func Set(content ...[]byte) []byte { return TLV(TagSet, content...) }

// SetOf returns a DER SET OF: the elements sorted by their encodings
// (X.690 §11.6). The slice passed in is sorted in place.
func SetOf(elems ...[]byte) []byte {
	slices.SortFunc(elems, bytes.Compare)
	return TLV(TagSet, elems...)
}

// Explicit wraps content in a constructed context-specific tag [n].
func Explicit(n int, content ...[]byte) []byte { return TLV(0xa0|byte(n), content...) }

// ImplicitPrimitive returns content under a primitive context-specific
// tag [n], as IMPLICIT tagging of a primitive type gives.
func ImplicitPrimitive(n int, content []byte) []byte { return TLV(0x80|byte(n), content) }

// Retag returns a copy of enc, a complete TLV, with its first octet
// replaced by tag: IMPLICIT tagging of an already encoded value.
func Retag(tag byte, enc []byte) []byte {
	out := slices.Clone(enc)
	if len(out) > 0 {
		out[0] = tag
	}
	return out
}

// Boolean returns a DER BOOLEAN (TRUE is 0xff, X.690 §11.1).
func Boolean(v bool) []byte {
	if v {
		return []byte{TagBoolean, 1, 0xff}
	}
	return []byte{TagBoolean, 1, 0}
}

// Null returns NULL.
func Null() []byte { return []byte{TagNull, 0} }

// Integer returns a minimal two's complement INTEGER.
func Integer(v int64) []byte { return BigInteger(big.NewInt(v)) }

// BigInteger returns a minimal two's complement INTEGER.
func BigInteger(v *big.Int) []byte {
	return TLV(TagInteger, integerContent(v))
}

func integerContent(v *big.Int) []byte {
	switch v.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := v.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Negative: two's complement of the smallest width that holds v.
	n := new(big.Int).Neg(v)
	n.Sub(n, big.NewInt(1))
	b := n.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// Uint returns an INTEGER for an unsigned value, such as an AS number.
func Uint(v uint64) []byte { return BigInteger(new(big.Int).SetUint64(v)) }

// OID is an object identifier as its arcs.
type OID []uint64

// ParseOID parses dotted decimal notation; it panics on malformed input
// because it is only used for constants.
func ParseOID(s string) OID {
	var o OID
	for _, part := range strings.Split(s, ".") {
		v, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			panic("encode: bad OID " + s)
		}
		o = append(o, v)
	}
	return o
}

// String returns the dotted decimal form.
func (o OID) String() string {
	parts := make([]string, len(o))
	for i, v := range o {
		parts[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(parts, ".")
}

// Encode returns the OBJECT IDENTIFIER TLV (X.690 §8.19).
func (o OID) Encode() []byte {
	var c []byte
	if len(o) >= 2 {
		c = appendBase128(c, o[0]*40+o[1])
		for _, v := range o[2:] {
			c = appendBase128(c, v)
		}
	}
	return TLV(TagOID, c)
}

func appendBase128(dst []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}

// BitString returns a BIT STRING of the first nbits bits of b. Bits past
// nbits in the last octet are cleared, as DER requires (X.690 §11.2.1).
func BitString(b []byte, nbits int) []byte {
	nbytes := (nbits + 7) / 8
	c := make([]byte, 1+nbytes)
	unused := nbytes*8 - nbits
	c[0] = byte(unused)
	copy(c[1:], b[:nbytes])
	if unused > 0 {
		c[nbytes] &= 0xff << unused
	}
	return TLV(TagBitString, c)
}

// BitStringBytes returns a BIT STRING holding all of b with no unused bits,
// the form of signatures and subject public keys.
func BitStringBytes(b []byte) []byte { return TLV(TagBitString, []byte{0}, b) }

// NamedBits returns a BIT STRING for a named bit list such as KeyUsage:
// bit i set for each i in bits, trailing zero bits removed (X.690 §11.2.2).
func NamedBits(bits ...int) []byte {
	highest := -1
	for _, b := range bits {
		highest = max(highest, b)
	}
	if highest < 0 {
		return []byte{TagBitString, 1, 0}
	}
	buf := make([]byte, highest/8+1)
	for _, b := range bits {
		buf[b/8] |= 0x80 >> (b % 8)
	}
	return BitString(buf, highest+1)
}

// OctetString returns an OCTET STRING.
func OctetString(b []byte) []byte { return TLV(TagOctetString, b) }

// PrintableString returns a PrintableString; it does not check the
// character set, so tests can build objects that break it.
func PrintableString(s string) []byte { return TLV(TagPrintableString, []byte(s)) }

// IA5String returns an IA5String.
func IA5String(s string) []byte { return TLV(TagIA5String, []byte(s)) }

// UTF8String returns a UTF8String.
func UTF8String(s string) []byte { return TLV(TagUTF8String, []byte(s)) }

// UTCTime returns a UTCTime, YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1).
func UTCTime(t time.Time) []byte {
	return TLV(TagUTCTime, []byte(t.UTC().Format("060102150405Z")))
}

// GeneralizedTime returns a GeneralizedTime, YYYYMMDDHHMMSSZ without
// fractional seconds (RFC 5280 §4.1.2.5.2).
func GeneralizedTime(t time.Time) []byte {
	return TLV(TagGeneralizedTime, []byte(t.UTC().Format("20060102150405Z")))
}

// Time returns the RFC 5280 §4.1.2.5 encoding of t: UTCTime through
// 2049, GeneralizedTime from 2050 on.
func Time(t time.Time) []byte {
	if t.UTC().Year() < 2050 {
		return UTCTime(t)
	}
	return GeneralizedTime(t)
}

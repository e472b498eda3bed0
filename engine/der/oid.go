package der

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// OID is an OBJECT IDENTIFIER in its encoded form: the contents octets
// (X.690 §8.19). Comparing encodings is all decoding needs, so OIDs are
// never converted to integers on the hot path.
type OID []byte

// Equal reports whether two OIDs are the same.
func (o OID) Equal(other OID) bool { return bytes.Equal(o, other) }

// String returns the dotted-decimal form, for example "1.2.840.113549.1.9.16.1.24".
func (o OID) String() string {
	if len(o) == 0 {
		return ""
	}
	var sb strings.Builder
	var v uint64
	first := true
	for _, b := range o {
		if v > 1<<56 {
			return "(oversized OID)"
		}
		v = v<<7 | uint64(b&0x7f)
		if b&0x80 != 0 {
			continue
		}
		if first {
			// The first subidentifier packs the first two arcs (§8.19.4).
			a := min(v/40, 2)
			sb.WriteString(strconv.FormatUint(a, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v-a*40, 10))
			first = false
		} else {
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return sb.String()
}

// OID returns an OBJECT IDENTIFIER's value after checking that every
// subidentifier is complete and in its shortest form.
func (e Element) OID() (OID, error) {
	if err := e.primitive("OBJECT IDENTIFIER"); err != nil {
		return nil, err
	}
	if err := checkOID(e.Content()); err != nil {
		return nil, e.errorf(ErrMalformed, "%v", err)
	}
	return OID(e.Content()), nil
}

func checkOID(c []byte) error {
	if len(c) == 0 {
		return errors.New("empty OBJECT IDENTIFIER")
	}
	if c[len(c)-1]&0x80 != 0 {
		return errors.New("OBJECT IDENTIFIER ends inside a subidentifier")
	}
	start := true
	for _, b := range c {
		if start && b == 0x80 {
			return errors.New("OBJECT IDENTIFIER subidentifier with a leading zero digit")
		}
		start = b&0x80 == 0
	}
	return nil
}

// ParseOID converts dotted-decimal text to an OID. It is meant for
// building constants and command-line input, not for object decoding.
func ParseOID(s string) (OID, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, errors.New("OID needs at least two arcs: " + strconv.Quote(s))
	}
	arcs := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 63)
		if err != nil {
			return nil, errors.New("bad OID arc in " + strconv.Quote(s))
		}
		arcs[i] = v
	}
	if arcs[0] > 2 || arcs[0] < 2 && arcs[1] > 39 {
		return nil, errors.New("bad first OID arcs in " + strconv.Quote(s))
	}
	var out []byte
	out = appendBase128(out, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		out = appendBase128(out, a)
	}
	return OID(out), nil
}

// MustOID is ParseOID for package-level constants; it panics on bad text,
// which is a programming mistake.
func MustOID(s string) OID {
	o, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

func appendBase128(dst []byte, v uint64) []byte {
	n := 1
	for t := v >> 7; t > 0; t >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		b := byte(v>>(7*uint(i))) & 0x7f
		if i > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
	}
	return dst
}

package der

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Text returns the contents of a character string element after checking
// them against the element's string type; see CheckString. The bytes are
// returned as encoded: UTF-8 or ASCII for most types, UTF-16BE for
// BMPString, UTF-32BE for UniversalString. DecodeText converts any of them
// to a Go string for display.
func (e Element) Text() ([]byte, error) {
	if err := e.primitive(e.Tag().String()); err != nil {
		return nil, err
	}
	if e.Tag().Class() != Universal {
		return nil, e.errorf(ErrUnexpectedTag, "expected a string type, found %s", e.Tag())
	}
	if detail := checkString(e.Tag(), e.Content(), e.Mode()); detail != "" {
		return nil, e.errorf(ErrMalformed, "%s", detail)
	}
	return e.Content(), nil
}

// IsString reports whether t is one of the universal character string
// types this package knows.
func IsString(t Tag) bool {
	switch t {
	case TagUTF8String, TagNumericString, TagPrintableString, TagTeletexString,
		TagIA5String, TagVisibleString, TagUniversalString, TagBMPString:
		return true
	}
	return false
}

// CheckString checks content against the character set of the string type
// t, which is given separately so IMPLICIT tags can be checked too (an
// IA5String URI inside a GeneralName, for example).
//
// Relaxed mode tolerates '*', '&', '_' and '@' in a PrintableString, which
// real certificates contain although X.680 leaves them out; Strict mode
// does not. TeletexString is taken as opaque 8-bit text in both modes.
func CheckString(t Tag, content []byte, mode Mode) error {
	if detail := checkString(t, content, mode); detail != "" {
		return newError(0, ErrMalformed, detail)
	}
	return nil
}

// checkString returns what is wrong with content, or "".
func checkString(t Tag, content []byte, mode Mode) string {
	switch t &^ constructedBit {
	case TagUTF8String:
		if !utf8.Valid(content) {
			return "UTF8String is not valid UTF-8"
		}
	case TagPrintableString:
		for _, b := range content {
			if !printable(b) && (mode == Strict || !printableRelaxed(b)) {
				return "PrintableString contains a character outside its set"
			}
		}
	case TagIA5String:
		for _, b := range content {
			if b >= 0x80 {
				return "IA5String contains a non-ASCII octet"
			}
		}
	case TagNumericString:
		for _, b := range content {
			if b != ' ' && (b < '0' || b > '9') {
				return "NumericString contains a character other than a digit or space"
			}
		}
	case TagVisibleString:
		for _, b := range content {
			if b < 0x20 || b > 0x7e {
				return "VisibleString contains a control or non-ASCII octet"
			}
		}
	case TagBMPString:
		if len(content)%2 != 0 {
			return "BMPString with an odd number of octets"
		}
	case TagUniversalString:
		if len(content)%4 != 0 {
			return "UniversalString length not a multiple of four"
		}
	case TagTeletexString:
	default:
		return t.String() + " is not a character string type"
	}
	return ""
}

// printable reports whether b is in the PrintableString set (X.680 §41.4).
func printable(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case ' ', '\'', '(', ')', '+', ',', '-', '.', '/', ':', '=', '?':
		return true
	}
	return false
}

func printableRelaxed(b byte) bool {
	return b == '*' || b == '&' || b == '_' || b == '@'
}

// DecodeText converts checked string contents of type t to a Go string,
// for display. It allocates. TeletexString is read as Latin-1, which is
// what its users in RPKI meant.
func DecodeText(t Tag, content []byte) string {
	switch t &^ constructedBit {
	case TagBMPString:
		u := make([]uint16, len(content)/2)
		for i := range u {
			u[i] = uint16(content[2*i])<<8 | uint16(content[2*i+1])
		}
		return string(utf16.Decode(u))
	case TagUniversalString:
		r := make([]rune, len(content)/4)
		for i := range r {
			r[i] = rune(uint32(content[4*i])<<24 | uint32(content[4*i+1])<<16 |
				uint32(content[4*i+2])<<8 | uint32(content[4*i+3]))
		}
		return string(r)
	case TagTeletexString:
		r := make([]rune, len(content))
		for i, b := range content {
			r[i] = rune(b)
		}
		return string(r)
	}
	return string(content)
}

package der

import "strconv"

// Class is the class of an ASN.1 tag (X.690 §8.1.2.2).
type Class uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=Class,Mode -output=enum_string.go

// The four tag classes, numbered as in the identifier octet.
const (
	Universal Class = iota
	Application
	ContextSpecific
	Private
)

// Tag identifies the type of an element: its class, whether its contents
// are themselves elements (constructed) and its number, packed into 16
// bits so that a whole Element fits in four machine words: bits 0-12 hold
// the number, bit 13 the constructed flag, bits 14-15 the class.
type Tag uint16

const (
	constructedBit = 1 << 13
	classShift     = 14
	// MaxTagNumber is the largest tag number rovd accepts. RPKI uses
	// numbers below 31; high tag numbers up to 8191 decode, larger ones
	// are refused as malformed.
	MaxTagNumber = constructedBit - 1
)

// NewTag builds a tag. Numbers above MaxTagNumber are truncated.
func NewTag(class Class, constructed bool, number uint32) Tag {
	t := Tag(class)<<classShift | Tag(number&MaxTagNumber)
	if constructed {
		t |= constructedBit
	}
	return t
}

// Class returns the tag's class.
func (t Tag) Class() Class { return Class(t >> classShift) }

// Constructed reports whether the contents are a sequence of elements.
func (t Tag) Constructed() bool { return t&constructedBit != 0 }

// Number returns the tag number.
func (t Tag) Number() uint32 { return uint32(t & MaxTagNumber) }

// Universal tags used by RPKI objects (X.680 §8.4). The string and time
// types are primitive; SEQUENCE and SET are always constructed.
const (
	TagBoolean         Tag = 1
	TagInteger         Tag = 2
	TagBitString       Tag = 3
	TagOctetString     Tag = 4
	TagNull            Tag = 5
	TagOID             Tag = 6
	TagEnumerated      Tag = 10
	TagUTF8String      Tag = 12
	TagSequence        Tag = constructedBit | 16
	TagSet             Tag = constructedBit | 17
	TagNumericString   Tag = 18
	TagPrintableString Tag = 19
	TagTeletexString   Tag = 20
	TagIA5String       Tag = 22
	TagUTCTime         Tag = 23
	TagGeneralizedTime Tag = 24
	TagVisibleString   Tag = 26
	TagUniversalString Tag = 28
	TagBMPString       Tag = 30
)

// Explicit returns the constructed context-specific tag [n], the form an
// EXPLICIT tag or an IMPLICIT tag on a constructed type takes.
func Explicit(n uint32) Tag { return NewTag(ContextSpecific, true, n) }

// Implicit returns the primitive context-specific tag [n], the form an
// IMPLICIT tag on a primitive type takes.
func Implicit(n uint32) Tag { return NewTag(ContextSpecific, false, n) }

// String formats the tag the way ASN.1 specifications write it, for
// example "SEQUENCE", "[0]" or "[APPLICATION 3]".
func (t Tag) String() string {
	n := t.Number()
	if t.Class() == Universal {
		if name, ok := universalNames[n]; ok {
			return name
		}
		return "[UNIVERSAL " + strconv.FormatUint(uint64(n), 10) + "]"
	}
	prefix := "["
	switch t.Class() {
	case Application:
		prefix = "[APPLICATION "
	case Private:
		prefix = "[PRIVATE "
	}
	s := prefix + strconv.FormatUint(uint64(n), 10) + "]"
	if t.Constructed() {
		s += " constructed"
	}
	return s
}

var universalNames = map[uint32]string{
	1: "BOOLEAN", 2: "INTEGER", 3: "BIT STRING", 4: "OCTET STRING", 5: "NULL",
	6: "OBJECT IDENTIFIER", 10: "ENUMERATED", 12: "UTF8String", 16: "SEQUENCE",
	17: "SET", 18: "NumericString", 19: "PrintableString", 20: "TeletexString",
	22: "IA5String", 23: "UTCTime", 24: "GeneralizedTime", 26: "VisibleString",
	28: "UniversalString", 30: "BMPString",
}

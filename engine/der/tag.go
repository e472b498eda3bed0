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
// are themselves elements (constructed) and its number.
type Tag struct {
	Class       Class
	Constructed bool
	Number      uint32
}

// Universal tags used by RPKI objects (X.680 §8.4). The string and time
// types are primitive; SEQUENCE and SET are always constructed.
var (
	TagBoolean         = Tag{Universal, false, 1}
	TagInteger         = Tag{Universal, false, 2}
	TagBitString       = Tag{Universal, false, 3}
	TagOctetString     = Tag{Universal, false, 4}
	TagNull            = Tag{Universal, false, 5}
	TagOID             = Tag{Universal, false, 6}
	TagEnumerated      = Tag{Universal, false, 10}
	TagUTF8String      = Tag{Universal, false, 12}
	TagSequence        = Tag{Universal, true, 16}
	TagSet             = Tag{Universal, true, 17}
	TagNumericString   = Tag{Universal, false, 18}
	TagPrintableString = Tag{Universal, false, 19}
	TagTeletexString   = Tag{Universal, false, 20}
	TagIA5String       = Tag{Universal, false, 22}
	TagUTCTime         = Tag{Universal, false, 23}
	TagGeneralizedTime = Tag{Universal, false, 24}
	TagVisibleString   = Tag{Universal, false, 26}
	TagUniversalString = Tag{Universal, false, 28}
	TagBMPString       = Tag{Universal, false, 30}
)

// Explicit returns the constructed context-specific tag [n], the form an
// EXPLICIT tag or an IMPLICIT tag on a constructed type takes.
func Explicit(n uint32) Tag { return Tag{ContextSpecific, true, n} }

// Implicit returns the primitive context-specific tag [n], the form an
// IMPLICIT tag on a primitive type takes.
func Implicit(n uint32) Tag { return Tag{ContextSpecific, false, n} }

// String formats the tag the way ASN.1 specifications write it, for
// example "SEQUENCE", "[0]" or "[APPLICATION 3]".
func (t Tag) String() string {
	if t.Class == Universal {
		if name, ok := universalNames[t.Number]; ok {
			return name
		}
		return "[UNIVERSAL " + strconv.FormatUint(uint64(t.Number), 10) + "]"
	}
	prefix := "["
	switch t.Class {
	case Application:
		prefix = "[APPLICATION "
	case Private:
		prefix = "[PRIVATE "
	}
	s := prefix + strconv.FormatUint(uint64(t.Number), 10) + "]"
	if t.Constructed {
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

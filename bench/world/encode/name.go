package encode

// Name is an X.501 distinguished name as RFC 6487 §4.4 and §4.5 allow it:
// one CommonName and an optional serialNumber, each in its own RDN.
type Name struct {
	CommonName   string
	SerialNumber string
	// StringTag is the tag of both attribute values; zero means
	// PrintableString, the only type RFC 6487 §4.5 allows. Tests set
	// TagUTF8String to build a wrong string type.
	StringTag byte
	// Raw, if set, is used as the whole encoded Name instead.
	Raw []byte
}

// Encode returns the Name as a DER RDNSequence.
func (n Name) Encode() []byte {
	if n.Raw != nil {
		return n.Raw
	}
	tag := n.StringTag
	if tag == 0 {
		tag = TagPrintableString
	}
	rdns := [][]byte{Set(Sequence(OIDCommonName.Encode(), TLV(tag, []byte(n.CommonName))))}
	if n.SerialNumber != "" {
		rdns = append(rdns, Set(Sequence(OIDSerialNumber.Encode(), TLV(tag, []byte(n.SerialNumber)))))
	}
	return Sequence(rdns...)
}

package rpki

import (
	"strings"

	"github.com/rovd/rovd/engine/der"
)

// Name is an X.501 Name as certificates and CRLs carry it. RPKI does not
// use names for anything but chaining issuer to subject, so the encoding is
// kept whole and compared as bytes.
type Name struct {
	// Raw is the encoded Name (the SEQUENCE). It aliases the object.
	Raw []byte
	// CommonName is the value of the first CommonName attribute, as encoded.
	CommonName []byte
	// SerialNumber is the value of the serialNumber attribute, if any.
	SerialNumber []byte
}

// Equal reports whether two names have the same encoding.
func (n Name) Equal(o Name) bool { return string(n.Raw) == string(o.Raw) }

// String renders the name for people, e.g. "CN=A91F…, serialNumber=3".
func (n Name) String() string {
	p := der.Parse(n.Raw, der.Relaxed)
	seq, err := p.Sequence()
	if err != nil {
		return "(unreadable name)"
	}
	var parts []string
	for !seq.Empty() {
		rdn, err := seq.Set()
		if err != nil {
			break
		}
		for !rdn.Empty() {
			atv, err := rdn.Sequence()
			if err != nil {
				break
			}
			typ, err1 := atv.OID()
			val, err2 := atv.Next()
			if err1 != nil || err2 != nil {
				break
			}
			label := attributeLabels[string(typ)]
			if label == "" {
				label = typ.String()
			}
			text := "#" + hexString(val.Content())
			if der.IsString(val.Tag()) {
				text = der.DecodeText(val.Tag(), val.Content())
			}
			parts = append(parts, label+"="+text)
		}
	}
	return strings.Join(parts, ", ")
}

var attributeLabels = map[string]string{
	string(oidCommonName):                       "CN",
	string(oidSerialNumber):                     "serialNumber",
	string(der.MustOID("2.5.4.6")):              "C",
	string(der.MustOID("2.5.4.7")):              "L",
	string(der.MustOID("2.5.4.8")):              "ST",
	string(der.MustOID("2.5.4.10")):             "O",
	string(der.MustOID("2.5.4.11")):             "OU",
	string(der.MustOID("1.2.840.113549.1.9.1")): "emailAddress",
}

// parseName reads a Name. RFC 6487 §4.4 and §4.5 allow exactly one
// CommonName and at most one serialNumber, both PrintableString. Only
// Strict mode enforces that: as the manual's "Relaxed Decoding" section
// says, relaxed mode checks only the general structure, since some CAs use
// UTF8String and RPKI does not use these fields.
func parseName(p *der.Parser, field string, r *report) (Name, error) {
	el, err := p.Expect(der.TagSequence)
	if err != nil {
		return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
	}
	n := Name{Raw: el.Raw}
	seq, err := el.Children()
	if err != nil {
		return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
	}
	strict := p.Mode() == der.Strict
	commonNames, serials, others := 0, 0, 0
	for !seq.Empty() {
		rdn, err := seq.Set()
		if err != nil {
			return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
		}
		if rdn.Empty() {
			return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", errEmptyRDN)
		}
		for !rdn.Empty() {
			atv, err := rdn.Sequence()
			if err != nil {
				return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
			}
			typ, err := atv.OID()
			if err != nil {
				return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
			}
			val, err := atv.Next()
			if err != nil {
				return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
			}
			if err := atv.Done(); err != nil {
				return Name{}, decodeErr(field, "RFC 5280 §4.1.2.4", err)
			}
			switch {
			case typ.Equal(oidCommonName):
				commonNames++
				if n.CommonName == nil {
					n.CommonName = val.Content()
				}
				checkNameString(val, field, "commonName", strict, r)
			case typ.Equal(oidSerialNumber):
				serials++
				n.SerialNumber = val.Content()
				checkNameString(val, field, "serialNumber", strict, r)
			default:
				others++
				if der.IsString(val.Tag()) {
					if _, err := val.Text(); err != nil {
						r.inspect(field, "RFC 5280 §4.1.2.4", "attribute %s: %v", typ, err)
					}
				}
			}
		}
	}
	if strict {
		switch {
		case commonNames != 1:
			r.inspect(field, "RFC 6487 §4.4", "want exactly one CommonName, have %d", commonNames)
		case serials > 1:
			r.inspect(field, "RFC 6487 §4.4", "more than one serialNumber")
		case others > 0:
			r.inspect(field, "RFC 6487 §4.4", "%d attributes other than CommonName and serialNumber", others)
		}
	} else if commonNames == 0 && serials == 0 && others == 0 {
		r.inspect(field, "RFC 6487 §4.4", "empty name")
	}
	return n, nil
}

// checkNameString checks an attribute value's string type: PrintableString
// in Strict mode, any valid character string in Relaxed mode.
func checkNameString(val der.Element, field, attr string, strict bool, r *report) {
	switch {
	case strict && val.Tag() != der.TagPrintableString:
		r.inspect(field+"."+attr, "RFC 6487 §4.4", "%s instead of PrintableString", val.Tag())
	case !der.IsString(val.Tag()):
		r.inspect(field+"."+attr, "RFC 5280 §4.1.2.4", "%s is not a string type", val.Tag())
	default:
		if _, err := val.Text(); err != nil {
			r.inspect(field+"."+attr, "RFC 5280 §4.1.2.4", "%v", err)
		}
	}
}

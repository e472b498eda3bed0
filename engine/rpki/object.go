package rpki

import (
	"fmt"
	"path"
	"strings"

	"github.com/rovd/rovd/engine/der"
)

// Type is the type of an RPKI object.
type Type uint8

const (
	TypeUnknown Type = iota
	TypeCertificate
	TypeCRL
	TypeManifest
	TypeROA
	TypeASPA
	TypeGBR
	TypeRSC
	TypeTAK
	TypeSPL
	TypeTAL
)

// Object is any decoded object.
type Object interface {
	// Type says what the object is.
	Type() Type
	// Problems lists the profile violations found while decoding.
	Problems() []Problem
}

// TypeFromName maps a file name's extension to the object type that
// repositories publish under it (RFC 6481 §2 and the IANA "RPKI
// Repository Name Schemes" registry), or TypeUnknown.
func TypeFromName(name string) Type {
	switch strings.ToLower(path.Ext(name)) {
	case ".cer":
		return TypeCertificate
	case ".crl":
		return TypeCRL
	case ".mft":
		return TypeManifest
	case ".roa":
		return TypeROA
	case ".asa":
		return TypeASPA
	case ".gbr":
		return TypeGBR
	case ".sig":
		return TypeRSC
	case ".tak":
		return TypeTAK
	case ".spl":
		return TypeSPL
	case ".tal":
		return TypeTAL
	}
	return TypeUnknown
}

// Sniff guesses the type of DER data from its structure, for files whose
// name says nothing: a signed object by its eContentType, otherwise a
// certificate or a CRL by the shape of the signed part.
func Sniff(data []byte) Type {
	p := der.Parse(data, der.Relaxed)
	outer, err := p.Sequence()
	if err != nil {
		return TypeUnknown
	}
	first, err := outer.Next()
	if err != nil {
		return TypeUnknown
	}
	if first.Tag() == der.TagOID {
		t := contentTypeOf(data)
		for typ, oid := range contentTypes {
			if t.Equal(oid) {
				return typ
			}
		}
		return TypeUnknown
	}
	if first.Tag() != der.TagSequence {
		return TypeUnknown
	}
	// A TBSCertificate starts with its [0] version; a TBSCertList with an
	// AlgorithmIdentifier or, for v2, a version INTEGER. Version 1
	// certificates start with an INTEGER too: the fourth field tells them
	// apart (a validity SEQUENCE against a thisUpdate time).
	tbs, err := first.Children()
	if err != nil {
		return TypeUnknown
	}
	head, err := tbs.Next()
	if err != nil {
		return TypeUnknown
	}
	switch head.Tag() {
	case der.Explicit(0):
		return TypeCertificate
	case der.TagSequence:
		return TypeCRL
	case der.TagInteger:
		for range 2 {
			if _, err := tbs.Next(); err != nil {
				return TypeUnknown
			}
		}
		if t, err := tbs.PeekTag(); err == nil {
			switch t {
			case der.TagSequence:
				return TypeCertificate
			case der.TagUTCTime, der.TagGeneralizedTime:
				return TypeCRL
			}
		}
	}
	return TypeUnknown
}

// contentTypeOf walks a CMS ContentInfo down to the eContentType, without
// decoding anything else, and returns it (nil if the walk fails).
func contentTypeOf(data []byte) der.OID {
	p := der.Parse(data, der.Relaxed)
	ci, err := p.Sequence()
	if err != nil {
		return nil
	}
	if ct, err := ci.OID(); err != nil || !ct.Equal(oidSignedData) {
		return nil
	}
	content, err := ci.Explicit(0)
	if err != nil {
		return nil
	}
	sd, err := content.Sequence()
	if err != nil {
		return nil
	}
	for range 2 { // version, digestAlgorithms
		if _, err := sd.Next(); err != nil {
			return nil
		}
	}
	eci, err := sd.Sequence()
	if err != nil {
		return nil
	}
	oid, _ := eci.OID()
	return oid
}

var contentTypes = map[Type]der.OID{
	TypeManifest: oidCTManifest,
	TypeROA:      oidCTROA,
	TypeASPA:     oidCTASPA,
	TypeGBR:      oidCTGBR,
	TypeRSC:      oidCTRSC,
	TypeTAK:      oidCTTAK,
	TypeSPL:      oidCTSPL,
}

// Parse decodes data as an object of type t; TypeUnknown sniffs the type
// from the data first. Data that is not an RPKI repository object yields
// an error wrapping ErrNotRPKI.
func Parse(t Type, data []byte, mode der.Mode) (Object, error) {
	sniffed := t == TypeUnknown
	if sniffed {
		if t = Sniff(data); t == TypeUnknown {
			return nil, &Problem{Stage: Decode, Err: ErrNotRPKI}
		}
	}
	var obj Object
	var err error
	switch t {
	case TypeCertificate:
		obj, err = nilIfErr(ParseCertificate(data, mode))
	case TypeCRL:
		obj, err = nilIfErr(ParseCRL(data, mode))
	case TypeManifest:
		obj, err = nilIfErr(ParseManifest(data, mode))
	case TypeROA:
		obj, err = nilIfErr(ParseROA(data, mode))
	case TypeASPA:
		obj, err = nilIfErr(ParseASPA(data, mode))
	case TypeGBR:
		obj, err = nilIfErr(ParseGBR(data, mode))
	case TypeRSC:
		obj, err = nilIfErr(ParseRSC(data, mode))
	case TypeTAK:
		obj, err = nilIfErr(ParseTAK(data, mode))
	case TypeSPL:
		obj, err = nilIfErr(ParseSPL(data, mode))
	case TypeTAL:
		obj, err = nilIfErr(ParseTAL(data))
	default:
		return nil, &Problem{Stage: Decode, Err: fmt.Errorf("%w: type %v", ErrNotRPKI, t)}
	}
	if err != nil {
		return nil, err
	}
	if c, ok := obj.(*Certificate); ok && sniffed && !c.inProfile {
		return nil, &Problem{Stage: Decode, Err: fmt.Errorf("%w: X.509 certificate without RPKI resources or policy", ErrNotRPKI)}
	}
	return obj, nil
}

// nilIfErr converts a typed result to an Object without turning a nil
// pointer into a non-nil interface.
func nilIfErr[T Object](v T, err error) (Object, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

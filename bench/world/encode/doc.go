// Package encode builds RPKI objects in DER from plain Go structs: resource
// certificates (RFC 6487, RFC 3779), BGPsec router certificates (RFC 8209),
// CRLs (RFC 6487 §5), CMS signed objects (RFC 6488, RFC 5652, RFC 9589),
// manifests (RFC 9286), ROAs (RFC 9582), ASPAs
// (draft-ietf-sidrops-aspa-profile), Ghostbusters records (RFC 6493) and
// TALs (RFC 8630).
//
// It is the encoding half of the test oracle in bench/world: every field of
// every object is settable, including ones that break the profiles (raw
// overrides, extra or duplicated extensions, wrong string types, corrupted
// signatures), so that tests can build both conforming and faulty objects.
// Defaults follow the profiles, so a zero-configured builder gives a valid
// object.
//
// The package writes DER with its own small TLV writer and must not depend
// on rovd's decoder (github.com/rovd/rovd/engine/...): an encoder that
// shared the decoder's reading of the RFCs could not catch its mistakes.
// Only the standard library's cryptography is used, for hashing and
// signing.
package encode

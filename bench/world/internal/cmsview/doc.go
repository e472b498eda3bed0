// Package cmsview reads the CMS layer of RPKI signed objects (RFC 5652
// §5, RFC 6488) with encoding/asn1 and crypto/x509, for the tests of
// bench/world. It is a second, independent reading of what the encoder
// writes; it must not use rovd's decoder, which the generated objects are
// meant to test.
package cmsview

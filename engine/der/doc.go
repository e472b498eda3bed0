// Package der reads ASN.1 values encoded with the Distinguished Encoding
// Rules (X.690), the encoding every RPKI object uses, without copying.
//
// A Parser walks a byte slice element by element. Each Element it returns
// holds sub-slices of the input (the whole encoding and the contents octets),
// so decoding an object costs no allocation per element: the caller's byte
// slice, typically a view of the object store's memory mapping, must stay
// valid for as long as the elements are used.
//
// Two modes exist because real repositories contain BER. In Relaxed mode,
// the default and the manual's "Relaxed Decoding", the reader also accepts
// the BER forms found in the wild: indefinite lengths, non-minimal length
// octets and constructed (split) OCTET STRINGs. Strict mode accepts DER
// only. Only reassembling a split OCTET STRING allocates, and only in
// Relaxed mode. Checks of string contents follow the same split: Strict
// enforces each string type's character set, Relaxed tolerates the
// characters commonly misused in PrintableString.
//
// Every length is checked against the data that is really there before it
// is used, and nesting is bounded by MaxDepth, so hostile input produces an
// *Error and never a panic or a large allocation.
//
// The package implements the parts of X.690 (BER and DER) and X.680 that
// RPKI objects use. It depends on the standard library only.
package der

// Package validity answers route origin validation questions (RFC 6811)
// for `rovd validate` and the HTTP validity API: it reads lists of route
// announcements (plain `PREFIX => ASN` lines or Routinator's JSON input),
// looks each up in a payload set and writes the verdicts as text or in
// the JSON layout that Routinator (and the RIPE NCC RPKI Validator
// before it) use, with the VRPs that decided each verdict.
//
// The lookup itself is engine/payload's: Set.State, which allocates
// nothing, for plain answers and Set.Validity for the detailed ones.
// This package adds the input and output formats only; it depends on
// engine/payload and the standard library.
package validity

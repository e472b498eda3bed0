// Package rpki decodes and checks single RPKI objects: resource
// certificates (RFC 6487, RFC 3779 resources), BGPsec router certificates
// (RFC 8209), CRLs, CMS signed objects (RFC 6488, RFC 9589), manifests
// (RFC 9286), ROAs (RFC 9582), ASPAs (draft-ietf-sidrops-aspa-profile),
// Ghostbusters records (RFC 6493) and TALs (RFC 8630); for inspection
// also RSCs (RFC 9323), TAKs (RFC 9691) and signed prefix lists
// (draft-ietf-sidrops-rpki-prefixlist).
//
// Decoding and validation are separate steps. Parse* functions decode an
// object and check it against its profile: an object that cannot be
// decoded gives an error (a *Problem at the Decode stage); one that
// decodes but breaks its profile is returned with its Problems list set,
// so tools can show both its content and everything wrong with it.
// Validate methods then check an object against its issuer (an *Issuer:
// the CA certificate, its effective resources and CRL) at a given time.
//
// Objects are parsed in place: byte slices in the results alias the input
// (usually a view of the object store's memory mapping) and are valid only
// as long as it is; strings (URIs) are copies. Nothing here does I/O,
// knows about repositories or policies, or keeps state between objects:
// that is the engine's job. The package depends only on engine/der and the
// standard library.
package rpki

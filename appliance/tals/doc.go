// Package tals holds the trust anchor locators (RFC 8630) that rovd
// bundles for `rovd init`: the production TALs of the five Regional
// Internet Registries, the TALs of their public testbeds and a few other
// test environments, each with a short name, a description and its
// category.
//
// The TAL files themselves live in data/ and are embedded into the
// binary; data/README says where they come from. The package depends on
// the standard library only.
package tals

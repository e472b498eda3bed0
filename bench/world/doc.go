// Package world generates standards-conformant RPKI worlds for rovd's
// tests and benchmarks, with deliberate faults and the ground truth a
// correct relying party must output. It is the oracle rovd is checked
// against, so it must not import anything from github.com/rovd/rovd/engine:
// objects are built with the package's own DER encoder (bench/world/encode),
// and its tests cross-check them with crypto/x509 and encoding/asn1.
//
// # Model
//
// A world is deterministic in its Config: the same Seed, Now and keys give
// the same bytes. It has Config.TAs trust anchors (ta-1, ta-2, ... or
// Config.TANames), each with a TAL (RFC 8630) and a self-signed
// certificate holding 0.0.0.0/0, ::/0 and AS0-4294967295 like an RIR's.
// Below each is a CA tree of Config.Depth levels; a trust anchor has
// TopWidth children and every other CA Width, drawn within ±WidthSpread.
// CA names follow the tree: ta-1-3-7 is the seventh child of the third
// child of ta-1. Every CA has its own RSA-2048 key (KeySource) and a
// certificate valid from Now-1 day to Now+1 year (RFC 6487).
//
// Resources are allocated hierarchically without overlap: each trust
// anchor hands out its own slice of the address and AS space (so trees of
// different trust anchors never overlap), and every CA splits its block
// into 2^b equal sub-blocks, one per child plus the last one for its own
// objects. Splitting stops at /24 for IPv4 and /48 for IPv6.
//
// Each CA publishes, in its own publication point rsync://HOST/MODULE/NAME/:
// its children's certificates (NAME.cer), ROAs (roa-N.roa, RFC 9582) with
// 1..MaxPrefixesPerROA prefixes from its own space, some with a maxLength
// above the prefix length, ASPAs (aspa-N.asa, the current
// draft-ietf-sidrops-aspa-profile), BGPsec router certificates
// (router-N.cer, RFC 8209, P-256 keys) and a Ghostbusters record
// (NAME.gbr, RFC 6493), at the rates of the Config; then its CRL
// (NAME.crl) and manifest (NAME.mft, RFC 9286), both valid from Now-1h to
// Now+24h. Every signed object has its own EE certificate and serial; EE
// keys come from a small committed pool and repeat.
//
// CAs are spread over Config.Repositories: trust anchor i lives in
// repository i modulo their number, and a quarter of the other CAs move to
// a random repository. Host names and ports are signed into the objects,
// so servers must listen where the world says.
//
// # Layout of a written world (Build, World.Write)
//
//	world.json                         State: config, RRDP sessions and serials, mutations
//	tals/NAME.tal                      one TAL per trust anchor
//	ta/NAME.cer                        TA certificates as https://HTTPS/ta/NAME.cer serves them
//	rsync/HOST[:PORT]/MODULE/...       rsync://HOST[:PORT]/MODULE/... (TA certificates under MODULE/ta/)
//	rrdp/REPO/notification.xml         https://HTTPS/rrdp/REPO/notification.xml (RFC 8182)
//	rrdp/REPO/SESSION/SERIAL/snapshot.xml, delta.xml
//	truth/vrps.csv                     ASN,IP Prefix,Max Length,Trust Anchor (Routinator's csv)
//	truth/unsafe.csv                   the VRPs unsafe-vrps=reject drops, same format
//	truth/aspas.csv                    Customer ASN,Provider ASNs (;-separated),Trust Anchor
//	truth/router-keys.csv              ASN,Router SKI (hex),Router Public Key (base64 SPKI),Trust Anchor
//	truth/faults.json                  []Fault
//
// An HTTPS URI's path is the file's path under the world directory. Trust
// anchor certificates are reached through their TALs and are in no RRDP
// snapshot. The RRDP session ID is a UUID derived from the seed and the
// repository name; a new world starts at serial 1 with a snapshot only.
//
// # Faults
//
// Config.Faults CAs, never trust anchors and never one below another, get
// one fault each, kinds taken in turn from FaultKinds and CAs chosen from
// the seed. Effects follow the Validation section of the Routinator manual
// as Routinator, rpki-client and FORT apply it (default policies:
// stale=reject, unknown-objects=warn, unsafe-vrps=warn):
//
//   - Object faults add a faulty object (fault.roa, fault.asa,
//     fault-router.cer, fault.gbr) that is on the manifest with the right
//     hash but fails its own checks, so it alone is dropped: a bad CMS or
//     EE signature, an expired, not yet valid or revoked EE certificate,
//     ROA resources outside the issuer's, a ROA prefix not covered by its
//     EE certificate, maxLength below the prefix length or above 32/128,
//     inherit in a ROA's EE certificate, an ASPA whose customer is among
//     its providers, a router certificate with an RSA key, a Ghostbusters
//     record with a bad signature.
//   - A valid ROA not on the manifest is ignored; a file of unknown type
//     on the manifest (fault.xyz) is ignored under unknown-objects=warn and
//     rejects the CA under reject.
//   - Publication point faults reject the CA with all its children: a
//     manifest hash mismatch, a file on the manifest missing, a stale
//     manifest or CRL (kept under stale=warn or accept), a manifest or CRL
//     with a bad signature, no manifest, no CRL. The resources of such a
//     CA make overlapping VRPs unsafe; the parent gets a ROA
//     (unsafe-CHILD.roa) for the child's first block so that there is one.
//   - Certificate faults make the CA's certificate, published by its
//     parent, invalid (bad signature, expired, resources beyond the
//     parent's): the CA and its children are never validated. Routinator
//     does not count such a CA's resources as rejected, so these make no
//     VRP unsafe.
//
// The truth is computed from the plan, without cryptography: the payload
// of every accepted CA's valid objects. Each Fault records the payload it
// removes, and for the policy-dependent kinds the policy that changes the
// effect and what it removes then.
//
// # Mutation
//
// Mutate re-issues a share of the publication points of a written world:
// a new manifest and CRL with the next numbers and one ROA with a new AS
// or maxLength. Untouched files are read back, not signed again. Each
// touched repository gets a new serial with a delta and a new snapshot,
// and world.json records the mutation so that later runs can replay it.
// RRDP files are written under temporary names and renamed into place,
// the notification last; the snapshot it replaced stays downloadable
// until the next mutation, for a relying party that read the previous
// notification a moment earlier.
package world

// Package engine walks the RPKI tree from the TALs to a payload set: it
// validates trust anchors, CAs, manifests, CRLs and the objects they
// list, applies the manual's policies (strict, stale, unsafe-vrps,
// unknown-objects) and produces an immutable engine/payload set.
//
// It asks for repository data through the Collector interface it
// defines and never imports netio, rtrfast or appliance, so it runs
// offline in tests and for the manual's -n: StoreCollector serves what
// the store holds.
//
// # The walk
//
// A run loads every *.tal of the TAL directory, fetches each trust
// anchor certificate (its TAL's URIs in order) and checks it against the
// TAL key. Each CA then goes through two stages of workers: fetch (up to
// 32 at once, since fetching waits on the network and the collector
// bounds its own parallelism) and validation (validation-threads). A
// CA's publication point is validated in one read view of the store:
// the manifest the CA certificate names (valid, signed, not stale under
// the stale policy, number and thisUpdate not before the last good
// one's), the CRL the manifest's EE certificate names, which must be
// listed, and every listed file present with the hash the manifest
// gives. Any failure there rejects the point, and with it the CA and its
// children, as the manual's "Validation" section says. Otherwise each
// object is checked against the CA (resources, validity at the
// validation time, revocation, AIA and CRL distribution point): an
// invalid object is dropped alone, a valid child CA certificate is
// queued.
//
// If the latest data of a point fails, the last copy that validated,
// which the store keeps apart from the fetched data, is validated
// instead and used if it still passes. Limits against hostile trees:
// CA depth (max-ca-depth), repositories per trust anchor, files per
// manifest.
//
// Findings (invalid objects, rejected points, failed repositories,
// unsafe VRPs) are logged at most three lines per point with a count of
// the rest, and all of them go into the run's Report.
//
// # Incremental validation
//
// A point that validates from its latest data leaves an entry in the
// store's validation cache; see cache.go for what an entry depends on. A
// later run whose fingerprint, file hashes and validity window all still
// hold replays the entry instead of checking signatures, and the CA
// certificates it names are parsed only if their own points miss. The
// file hashes need no lookups while the store's change numbers (Stamp)
// show the point's directories untouched. Update, the run of rovd update
// and vrps -f none, reads only each entry's summary and no payload.
// ColdCache (--cold-cache) ignores the cache for a run.
//
// Every run also records its tree of CAs in one store record (tree.go).
// Update first fetches the repositories that tree used, marks the points
// that may have changed (their directories changed, their window ended,
// their repository did not fetch cleanly, or they did not validate from
// their latest data) and visits only those and their ancestors; each
// other subtree is carried over from the record whole, without a store
// read per point.
package engine

// Package payload will hold the immutable results of a validation run:
// VRPs, ASPAs and router keys in sorted slices, their diffs, the lookup
// trie for validity queries, and SLURM exceptions (RFC 8416). It depends
// on the standard library only, so rtrfast and the HTTP front end can use
// it without pulling in the validator. It is built with the engine issue.
package payload

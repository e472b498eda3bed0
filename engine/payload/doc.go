// Package payload holds the immutable result of a validation run: VRPs,
// ASPAs and router keys in sorted slices, each with the objects it came
// from, and what is built from them for the consumers (diffs between sets,
// the lookup trie for validity queries). It depends on the standard
// library only, so rtrfast and the HTTP front end can use it without
// pulling in the validator.
package payload

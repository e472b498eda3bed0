package payload

import "unsafe"

// BuildIndex builds the validity index of s from scratch, for timing.
func BuildIndex(s *Set) { _ = newPrefixIndex(s.vrps) }

// IndexNodeSize is the size of one entry of the validity index.
const IndexNodeSize = unsafe.Sizeof(indexNode{})

package rrdp

import "io"

// NewReaderSize returns a Reader with a read buffer of the given size
// (at least minBufSize), so tests can push tokens across buffer refills.
func NewReaderSize(r io.Reader, lim Limits, size int) *Reader {
	return newReaderSize(r, lim, size)
}

// MinBufSize is the smallest read buffer a Reader uses.
const MinBufSize = minBufSize

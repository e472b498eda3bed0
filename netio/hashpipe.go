package netio

import (
	"crypto/sha256"
	"io"
)

// hashPipe computes the SHA-256 of what is read through it in a
// goroutine of its own. An RRDP file's hash is half the CPU time of
// reading a snapshot; beside the parser it costs little wall time.
type hashPipe struct {
	r    io.Reader
	full chan []byte // read data, to the hasher
	free chan []byte // buffers back from the hasher
	sum  chan [32]byte
	done bool
}

// hashPipeBuffers is the number of read chunks in flight.
const hashPipeBuffers = 4

func newHashPipe(r io.Reader) *hashPipe {
	p := &hashPipe{
		r:    r,
		full: make(chan []byte, hashPipeBuffers),
		free: make(chan []byte, hashPipeBuffers),
		sum:  make(chan [32]byte, 1),
	}
	for range hashPipeBuffers {
		p.free <- nil
	}
	go func() {
		h := sha256.New()
		for b := range p.full {
			h.Write(b)
			p.free <- b
		}
		p.sum <- [32]byte(h.Sum(nil))
	}()
	return p
}

func (p *hashPipe) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		buf := append((<-p.free)[:0], b[:n]...)
		p.full <- buf
	}
	return n, err
}

// Sum reads the rest of the input and returns the hash of all of it.
// It must be called once; Close instead if the hash is not needed.
func (p *hashPipe) Sum() ([32]byte, error) {
	_, err := io.Copy(io.Discard, p)
	p.Close()
	return <-p.sum, err
}

// Close stops the hashing goroutine. It is safe to call more than once.
func (p *hashPipe) Close() {
	if !p.done {
		p.done = true
		close(p.full)
	}
}

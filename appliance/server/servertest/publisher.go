// Package servertest provides a server.Publisher for tests of the server
// and of the commands that run it: it hands the test what it is given
// and, if asked, passes everything on to a real Publisher. Only tests
// import it.
package servertest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rovd/rovd/appliance/server"
	"github.com/rovd/rovd/engine/payload"
)

// Publisher records what the server does with it.
type Publisher struct {
	// Published gets every set published, Serving the address of every
	// listener served.
	Published chan *payload.Set
	Serving   chan net.Addr
	// ServeErr, if set, is what Serve returns at once.
	ServeErr error
	// Inner, if set before the first call, gets every call as well, and
	// Serve and Close return what it returns.
	Inner server.Publisher

	mu     sync.Mutex
	closed bool
}

// New returns a Publisher with room for 100 sets and 10 listeners.
func New() *Publisher {
	return &Publisher{Published: make(chan *payload.Set, 100), Serving: make(chan net.Addr, 10)}
}

// Publish records set and passes it on to Inner.
func (p *Publisher) Publish(set *payload.Set) {
	if p.Inner != nil {
		p.Inner.Publish(set)
	}
	p.Published <- set
}

// Serve records the listener's address. Without Inner, it accepts and
// closes connections until ctx ends.
func (p *Publisher) Serve(ctx context.Context, l net.Listener) error {
	p.Serving <- l.Addr()
	switch {
	case p.ServeErr != nil:
		return p.ServeErr
	case p.Inner != nil:
		return p.Inner.Serve(ctx, l)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.Close()
	}
}

// Close records that the server closed it.
func (p *Publisher) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if p.Inner != nil {
		return p.Inner.Close()
	}
	return nil
}

// Closed reports whether Close was called.
func (p *Publisher) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Next returns the next set published, failing t if none comes within
// patience.
func (p *Publisher) Next(t testing.TB, patience time.Duration) *payload.Set {
	t.Helper()
	select {
	case s := <-p.Published:
		return s
	case <-time.After(patience):
		t.Fatal("nothing published")
		return nil
	}
}

// None fails t if a set was published and not taken yet.
func (p *Publisher) None(t testing.TB) {
	t.Helper()
	select {
	case s := <-p.Published:
		t.Fatalf("published %d VRPs", len(s.VRPs()))
	default:
	}
}

//go:build !race

package validity_test

import (
	"math/rand/v2"
	"testing"

	"github.com/rovd/rovd/appliance/validity"
)

// The race detector allocates on its own, hence the build tag.
// TestLookupAllocs keeps the plain path free of allocations.
func TestLookupAllocs(t *testing.T) {
	set, routes := benchSet(rand.New(rand.NewPCG(3, 4)))
	buf := make([]byte, 0, 256)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r := routes[i&(len(routes)-1)]
		buf = validity.AppendText(buf[:0], r, set.State(r.Prefix, r.ASN))
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per route, want 0", allocs)
	}
}

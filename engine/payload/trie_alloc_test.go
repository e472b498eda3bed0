//go:build !race

package payload_test

import (
	"net/netip"
	"testing"
)

// The race detector allocates on its own, hence the build tag.
func TestValidityAllocs(t *testing.T) {
	s := build(
		addV(vrp(1, "10.0.0.0/8", 24), srcA1),
		addV(vrp(2, "10.0.0.0/16", 16), srcA1),
		addV(vrp(1, "2001:db8::/32", 48), srcA1),
	)
	covered := netip.MustParsePrefix("10.0.0.0/24")
	uncovered := netip.MustParsePrefix("11.0.0.0/24")
	_, buf := s.AppendValidity(nil, covered, 1)
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{"State covered", func() { s.State(covered, 1) }, 0},
		{"State not found", func() { s.State(uncovered, 1) }, 0},
		{"Validity not found", func() { s.Validity(uncovered, 1) }, 0},
		{"Validity covered allocates the lists once", func() { s.Validity(covered, 1) }, 1},
		{"AppendValidity covered into a grown buffer", func() { _, buf = s.AppendValidity(buf[:0], covered, 1) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != tc.want {
				t.Errorf("%v allocations, want %v", got, tc.want)
			}
		})
	}
}

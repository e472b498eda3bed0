//go:build !race

package output_test

import (
	"io"
	"testing"

	"github.com/rovd/rovd/appliance/output"
)

// TestWriteAllocs checks that no format allocates per VRP: writing ten
// times as many VRPs costs no more allocations. (The race detector adds
// allocations of its own, hence the build tag.)
func TestWriteAllocs(t *testing.T) {
	small, large := genSet(2000), genSet(20000)
	for _, f := range output.Formats {
		t.Run(f, func(t *testing.T) {
			opt := output.Options{Format: f, ASPA: true, BGPsec: true, Time: genTime}
			allocs := func(n int) float64 {
				set := small
				if n > 0 {
					set = large
				}
				return testing.AllocsPerRun(3, func() {
					if err := output.Write(io.Discard, set, opt); err != nil {
						t.Fatal(err)
					}
				})
			}
			if s, l := allocs(0), allocs(1); l > s {
				t.Errorf("%v allocations for %d VRPs, %v for %d", s, len(small.VRPs()), l, len(large.VRPs()))
			} else {
				t.Logf("%v allocations", l)
			}
		})
	}
}

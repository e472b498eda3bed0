package output_test

import (
	"io"
	"testing"

	"github.com/rovd/rovd/appliance/output"
)

// benchVRPs is the size of the benchmark set: about a sixth of the
// global VRP set, enough that per-VRP costs dominate.
const benchVRPs = 100_000

// BenchmarkWrite writes a set of benchVRPs VRPs in every format to
// io.Discard. Run it with -benchmem; each sub-benchmark reports the
// output size as bytes per operation's throughput (MB/s).
func BenchmarkWrite(b *testing.B) {
	set := genSet(benchVRPs)
	for _, f := range output.Formats {
		b.Run(f, func(b *testing.B) {
			opt := output.Options{Format: f, ASPA: true, BGPsec: true, Time: genTime}
			var n countWriter
			if err := output.Write(&n, set, opt); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := output.Write(io.Discard, set, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countWriter counts the bytes written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

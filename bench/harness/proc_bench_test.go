package harness_test

import (
	"os"
	"testing"

	"github.com/rovd/rovd/bench/harness"
)

// BenchmarkSampleTree measures one sample of this process's tree: the
// cost the sampler takes from the measured program every
// SampleInterval.
func BenchmarkSampleTree(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := harness.SampleTree("/proc", os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}

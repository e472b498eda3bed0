package world_test

import (
	"context"
	"testing"

	"github.com/rovd/rovd/bench/world"
)

// BenchmarkBuildPoint builds one publication point of the small preset: a
// CA with 7 ROAs (each an EE certificate and a CMS signature), its CRL and
// its manifest. RSA signing dominates: about two signatures per object.
func BenchmarkBuildPoint(b *testing.B) {
	cfg, err := world.Preset("small")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Now = testNow
	build, err := world.PointBuilder(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, ca string }{
		{"leaf", "ta-1-1-1"},
		{"with children", "ta-1-1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n, err := build(bc.ca)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := build(bc.ca); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "objects/op")
		})
	}
}

// BenchmarkGenerateSmall builds the whole small preset in memory.
func BenchmarkGenerateSmall(b *testing.B) {
	cfg, err := world.Preset("small")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Now = testNow
	b.ReportAllocs()
	for b.Loop() {
		if _, err := world.Generate(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

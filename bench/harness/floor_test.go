package harness_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/harness"
)

func TestCountSignatures(t *testing.T) {
	root := t.TempDir()
	files := []string{
		"127.0.0.1:8873/repo1/ta/ta-1.cer",
		"127.0.0.1:8873/repo1/ta-1/ta-1-1.cer",
		"127.0.0.1:8873/repo1/ta-1/router-1.cer",
		"127.0.0.1:8873/repo1/ta-1/ta-1.crl",
		"127.0.0.1:8873/repo1/ta-1/ta-1.mft",
		"127.0.0.1:8873/repo1/ta-1/roa-1.roa",
		"127.0.0.1:8873/repo1/ta-1/roa-2.roa",
		"127.0.0.1:8873/repo1/ta-1/aspa-1.asa",
		"127.0.0.1:8873/repo1/ta-1/ta-1.gbr",
		"127.0.0.1:8873/repo1/ta-1/fault.xyz",
	}
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := harness.CountSignatures(root)
	if err != nil {
		t.Fatal(err)
	}
	want := harness.Signatures{Certs: 3, CRLs: 1, Signed: 5}
	if s != want || s.Total() != 14 {
		t.Errorf("got %+v (total %d), want %+v (total 14)", s, s.Total(), want)
	}
}

func TestNewFloor(t *testing.T) {
	// 1,000 verifications at 4,000 a second on 2 cores: each takes
	// 0.5 ms on its core, and the floor is a quarter second.
	f := harness.NewFloor(harness.Signatures{Certs: 200, CRLs: 200, Signed: 300}, 4000, 2)
	if f.Verifications != 1000 || math.Abs(f.Secs-0.25) > 1e-9 || math.Abs(f.VerifySecs-0.0005) > 1e-12 {
		t.Errorf("got %+v", f)
	}
	if f := harness.NewFloor(harness.Signatures{Certs: 1}, 0, 2); f.Secs != 0 {
		t.Errorf("no throughput: %+v", f)
	}
}

func TestMeasureVerify(t *testing.T) {
	rate, err := harness.MeasureVerify(context.Background(), 100*time.Millisecond, harness.Cores())
	if err != nil {
		t.Fatal(err)
	}
	// An RSA-2048 verification takes tens of microseconds: anything
	// from a hundred to a million a second is plausible.
	if rate < 100 || rate > 1e6 {
		t.Errorf("%.0f verifications a second", rate)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := harness.MeasureVerify(ctx, time.Minute, 1); err == nil {
		t.Error("cancelled: no error")
	}
}

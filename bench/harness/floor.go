package harness

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Signatures counts the RSA verifications validating a world takes.
type Signatures struct {
	// Certs are CA, router and trust anchor certificates (.cer): one
	// verification each, by the issuer's key (a trust anchor's by the
	// TAL's).
	Certs int64 `json:"certs"`
	// CRLs need one verification each.
	CRLs int64 `json:"crls"`
	// Signed are CMS signed objects (manifests, ROAs, ASPAs,
	// Ghostbusters records): two each, the CMS signature by the EE key
	// and the EE certificate by the CA's key (RFC 6488 §3).
	Signed int64 `json:"signed"`
}

// Total returns the number of verifications.
func (s Signatures) Total() int64 { return s.Certs + s.CRLs + 2*s.Signed }

// CountSignatures counts by file name extension the objects of a
// world's rsync tree. It counts every published file, also those a
// relying party skips (below a rejected CA, not on a manifest): the
// floor is what the world holds, and faults are a small share of it.
func CountSignatures(rsyncDir string) (Signatures, error) {
	var s Signatures
	err := filepath.WalkDir(rsyncDir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(d.Name()) {
		case ".cer":
			s.Certs++
		case ".crl":
			s.CRLs++
		case ".mft", ".roa", ".asa", ".gbr", ".sig", ".tak":
			s.Signed++
		}
		return nil
	})
	return s, err
}

// Floor is the signature bound of a validation run: the time the RSA
// verifications alone take on every core of this machine.
type Floor struct {
	Signatures Signatures `json:"signatures"`
	// Verifications is Signatures.Total().
	Verifications int64 `json:"verifications"`
	// Cores is the number of verifier goroutines measured in parallel.
	Cores int `json:"cores"`
	// VerifiesPerSec is the measured throughput of all of them.
	VerifiesPerSec float64 `json:"verifiesPerSec"`
	// VerifySecs is the time of one verification on one core.
	VerifySecs float64 `json:"verifySecs"`
	// Secs is Verifications ÷ VerifiesPerSec: the floor.
	Secs float64 `json:"secs"`
}

// NewFloor computes the floor from a count and a measured throughput.
func NewFloor(s Signatures, verifiesPerSec float64, cores int) Floor {
	f := Floor{Signatures: s, Verifications: s.Total(), Cores: cores, VerifiesPerSec: verifiesPerSec}
	if verifiesPerSec > 0 {
		f.VerifySecs = float64(cores) / verifiesPerSec
		f.Secs = float64(f.Verifications) / verifiesPerSec
	}
	return f
}

// MeasureVerify measures the throughput, in verifications per second,
// of RSA-2048 PKCS #1 v1.5 SHA-256 verification (RFC 7935 §2, the only
// signature algorithm of RPKI objects) with one goroutine per core for
// about d. It measures what crypto/rsa does for rovd, so the floor moves
// with the Go version like rovd itself.
func MeasureVerify(ctx context.Context, d time.Duration, cores int) (float64, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("rovd-bench signature floor"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return 0, err
	}
	pub := &key.PublicKey
	// One unmeasured verification per worker warms up the code paths
	// (and checks that the signature verifies at all).
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return 0, err
	}
	var (
		count atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
		fail  atomic.Pointer[error]
	)
	start := time.Now()
	for range cores {
		wg.Go(func() {
			for !stop.Load() {
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
					fail.Store(&err)
					return
				}
				count.Add(1)
			}
		})
	}
	t := time.NewTimer(d)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if p := fail.Load(); p != nil {
		return 0, *p
	}
	return float64(count.Load()) / elapsed.Seconds(), nil
}

// Cores is the number of cores verification runs on: what the Go
// runtime uses, which honours CPU affinity and cgroup limits.
func Cores() int { return runtime.GOMAXPROCS(0) }

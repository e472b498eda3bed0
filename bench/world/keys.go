package world

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

// The committed key pool (testkeys/README.md): enough CA keys for the small
// preset, and the EE pool every world uses.
var (
	//go:embed testkeys/ca-rsa2048.der
	embeddedCAKeys []byte
	//go:embed testkeys/ee-rsa2048.der
	embeddedEEKeys []byte
	//go:embed testkeys/ee-p256.der
	embeddedRouterKeys []byte
)

// keyCacheFile is the name of the cache file under the key cache
// directory. It holds the CA keys after the embedded ones, as concatenated
// PKCS #1 DER, and only ever grows.
const keyCacheFile = "ca-rsa2048.der"

// keyAppendBatch is how many fresh keys are appended at a time, so that an
// interrupted fill keeps most of its work.
const keyAppendBatch = 64

// DefaultKeyCache returns $XDG_CACHE_HOME/rovd-bench/keys, or
// ~/.cache/rovd-bench/keys when XDG_CACHE_HOME is unset.
func DefaultKeyCache() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "rovd-bench", "keys")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "rovd-bench", "keys")
	}
	return filepath.Join(os.TempDir(), "rovd-bench", "keys")
}

// EmbeddedCAKeys is the number of CA keys committed under testkeys/.
func EmbeddedCAKeys() int { return len(splitDER(embeddedCAKeys)) }

// splitDER splits concatenated DER SEQUENCEs. The input is our own file,
// so a malformed tail simply ends the list.
func splitDER(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 && b[0] == 0x30 {
		n, hdr := int(b[1]), 2
		if n&0x80 != 0 {
			k := n & 0x7f
			if k == 0 || k > 4 || len(b) < 2+k {
				break
			}
			n = 0
			for _, c := range b[2 : 2+k] {
				n = n<<8 | int(c)
			}
			hdr += k
		}
		if len(b) < hdr+n {
			break
		}
		out = append(out, b[:hdr+n])
		b = b[hdr+n:]
	}
	return out
}

// KeySource hands out the world's keys: n CA keys in a fixed order (the
// embedded pool, then the on-disk cache) and the EE pools.
type KeySource struct {
	// CacheDir holds keys beyond the embedded pool; empty means keys
	// that are missing are generated and not kept.
	CacheDir string
	// Progress, if set, is called as keys are generated.
	Progress func(done, total int)
}

// CAKeys returns the first n CA keys, generating and caching missing ones
// on all cores. The same cache gives the same keys, and so the same world.
func (s *KeySource) CAKeys(ctx context.Context, n int) ([]*rsa.PrivateKey, error) {
	ders := splitDER(embeddedCAKeys)
	if len(ders) < n && s.CacheDir != "" {
		b, err := os.ReadFile(filepath.Join(s.CacheDir, keyCacheFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("key cache: %w", err)
		}
		ders = append(ders, splitDER(b)...)
	}
	if len(ders) > n {
		ders = ders[:n]
	}
	if missing := n - len(ders); missing > 0 {
		fresh, err := s.generate(ctx, missing)
		if err != nil {
			return nil, err
		}
		ders = append(ders, fresh...)
	}
	return parseRSAKeys(ders)
}

// generate makes n fresh RSA-2048 keys on all cores and appends them to
// the cache in batches.
func (s *KeySource) generate(ctx context.Context, n int) ([][]byte, error) {
	var f *os.File
	if s.CacheDir != "" {
		if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("key cache: %w", err)
		}
		var err error
		f, err = os.OpenFile(filepath.Join(s.CacheDir, keyCacheFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("key cache: %w", err)
		}
		defer f.Close()
	}
	out := make([][]byte, 0, n)
	var done atomic.Int64
	for len(out) < n {
		batch := min(keyAppendBatch*runtime.GOMAXPROCS(0), n-len(out))
		keys := make([][]byte, batch)
		var wg sync.WaitGroup
		var next atomic.Int64
		var firstErr error
		var errOnce sync.Once
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= batch || ctx.Err() != nil {
						return
					}
					k, err := rsa.GenerateKey(rand.Reader, 2048)
					if err != nil {
						errOnce.Do(func() { firstErr = err })
						return
					}
					keys[i] = x509.MarshalPKCS1PrivateKey(k)
					if d := done.Add(1); s.Progress != nil {
						s.Progress(int(d), n)
					}
				}
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if firstErr != nil {
			return nil, fmt.Errorf("generate key: %w", firstErr)
		}
		if f != nil {
			var all []byte
			for _, k := range keys {
				all = append(all, k...)
			}
			if _, err := f.Write(all); err != nil {
				return nil, fmt.Errorf("key cache: %w", err)
			}
		}
		out = append(out, keys...)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("key cache: %w", err)
		}
	}
	return out, nil
}

// parseRSAKeys parses PKCS #1 keys on all cores; parsing validates and
// precomputes each key, which costs about as much as a signature.
func parseRSAKeys(ders [][]byte) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, len(ders))
	errs := make([]error, len(ders))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ders) {
					return
				}
				keys[i], errs[i] = x509.ParsePKCS1PrivateKey(ders[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
	}
	return keys, nil
}

// eeKeys returns the committed EE pools: RSA keys for signed objects and
// P-256 keys for router certificates.
func eeKeys() ([]*rsa.PrivateKey, []*ecdsa.PrivateKey, error) {
	rsaKeys, err := parseRSAKeys(splitDER(embeddedEEKeys))
	if err != nil {
		return nil, nil, err
	}
	var ecKeys []*ecdsa.PrivateKey
	for _, d := range splitDER(embeddedRouterKeys) {
		k, err := x509.ParseECPrivateKey(d)
		if err != nil {
			return nil, nil, fmt.Errorf("router key: %w", err)
		}
		ecKeys = append(ecKeys, k)
	}
	return rsaKeys, ecKeys, nil
}

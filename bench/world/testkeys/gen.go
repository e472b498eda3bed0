//go:build ignore

// Gen writes the committed test key pool of bench/world (see README.md):
//
//	go run ./bench/world/testkeys/gen.go -o bench/world/testkeys
//
// It draws fresh keys from crypto/rand, so running it changes every
// generated world's bytes; do so only when the pool must grow.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

func main() {
	out := flag.String("o", ".", "output directory")
	ca := flag.Int("ca", 320, "RSA-2048 CA keys")
	ee := flag.Int("ee", 16, "RSA-2048 EE keys")
	p256 := flag.Int("p256", 4, "P-256 router keys")
	flag.Parse()

	write := func(name string, ders [][]byte) {
		var all []byte
		for _, d := range ders {
			all = append(all, d...)
		}
		if err := os.WriteFile(filepath.Join(*out, name), all, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("ca-rsa2048.der", rsaKeys(*ca))
	write("ee-rsa2048.der", rsaKeys(*ee))
	var ecs [][]byte
	for range *p256 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		d, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			log.Fatal(err)
		}
		ecs = append(ecs, d)
	}
	write("ee-p256.der", ecs)
}

// rsaKeys generates n keys on all cores, in PKCS #1 DER.
func rsaKeys(n int) [][]byte {
	out := make([][]byte, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					log.Fatal(err)
				}
				out[i] = x509.MarshalPKCS1PrivateKey(k)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

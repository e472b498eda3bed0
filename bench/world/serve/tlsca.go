package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Files of the test CA under DIR/serve/.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca.key"
	serverCertFile = "server.pem"
	serverKeyFile  = "server.key"
	lockFile       = ".lock"
)

const (
	// caLifetime and serverLifetime are long because a world directory
	// may be served for as long as it is kept; TLS clients other than
	// browsers put no upper bound on a certificate's validity.
	caLifetime     = 10 * 365 * 24 * time.Hour
	serverLifetime = 2 * 365 * 24 * time.Hour
	// renewBefore is how long before expiry a certificate is replaced.
	renewBefore = 30 * 24 * time.Hour
	// backdate covers clocks slightly behind ours.
	backdate = time.Hour
)

// defaultHosts are always in the server certificate, so that a client may
// reach a server by any loopback name.
var defaultHosts = []string{"127.0.0.1", "::1", "localhost"}

// testCA is the CA of a world directory and the certificate its HTTPS
// servers present.
type testCA struct {
	certFile string
	pool     *x509.CertPool
	server   tls.Certificate
}

// loadCA reads the test CA and server certificate from dir, making or
// renewing what is missing, expired or does not cover hosts. A lock file
// keeps two Starts on one world from issuing at the same time.
func loadCA(dir string, hosts []string, now time.Time) (*testCA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}

	caCert, caKey, err := readPair(dir, caCertFile, caKeyFile)
	if err != nil || !caCert.IsCA || now.Add(renewBefore).After(caCert.NotAfter) {
		caCert, caKey, err = newCA(dir, now)
		if err != nil {
			return nil, fmt.Errorf("test ca: %w", err)
		}
	}
	cert, key, err := readPair(dir, serverCertFile, serverKeyFile)
	if err != nil || !serverCertFits(cert, caCert, hosts, now) {
		cert, key, err = newServerCert(dir, caCert, caKey, hosts, now)
		if err != nil {
			return nil, fmt.Errorf("test server certificate: %w", err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &testCA{
		certFile: filepath.Join(dir, caCertFile),
		pool:     pool,
		server:   tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
	}, nil
}

// serverCertFits reports whether cert was issued by ca, is valid for a
// while yet and names every host.
func serverCertFits(cert, ca *x509.Certificate, hosts []string, now time.Time) bool {
	if cert.CheckSignatureFrom(ca) != nil || now.Add(renewBefore).After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// readPair reads a PEM certificate and the PKCS #8 ECDSA key that goes with
// it.
func readPair(dir, certName, keyName string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, keyName))
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil || cp.Type != "CERTIFICATE" || kp.Type != "PRIVATE KEY" {
		return nil, nil, errors.New("not a PEM certificate and key")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("key does not match the certificate")
	}
	return cert, key, nil
}

func newCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("rovd-bench test CA %x", serial.Bytes()[:4])},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return issue(dir, caCertFile, caKeyFile, tmpl, tmpl, key, key)
}

func newServerCert(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "rovd-bench test server"},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(serverLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return issue(dir, serverCertFile, serverKeyFile, tmpl, ca, key, caKey)
}

// issue signs tmpl for key with signer and writes the certificate and the
// key into dir, each by way of a temporary file so that a reader never sees
// half of one.
func issue(dir, certName, keyName string, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	k8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	// The key first: a certificate without its key is useless, a key
	// without its certificate is simply issued again.
	if err := writePEM(filepath.Join(dir, keyName), "PRIVATE KEY", k8, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writePEM(filepath.Join(dir, certName), "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func writePEM(path, typ string, der []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// randomSerial returns a positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // keep it 16 bytes long, so the CA's name is stable in length
	return new(big.Int).SetBytes(b), nil
}

// certHosts returns the sorted, distinct hosts a server certificate must
// name: those of addrs (host:port) and the default loopback names.
func certHosts(addrs []string) []string {
	hosts := slices.Clone(defaultHosts)
	for _, a := range addrs {
		h, _, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

package simcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// authority is the in-process test CA. It issues the Prometheus client
// certificate (the Istio workload certificate of the tests) and one server
// certificate per listener IP, with that IP as subject alternative name.
type authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	pool    *x509.CertPool

	mu      sync.Mutex
	serial  int64
	servers map[string]*tls.Certificate // by IP
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "simcluster test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, pool: pool, serial: 1, servers: map[string]*tls.Certificate{},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// issue signs a leaf certificate from tmpl and returns it PEM-encoded with
// its PEM-encoded key.
func (a *authority) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	a.mu.Lock()
	a.serial++
	tmpl.SerialNumber = big.NewInt(a.serial)
	a.mu.Unlock()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// serverCert returns the server certificate for ip, issuing it once.
func (a *authority) serverCert(ip string) (*tls.Certificate, error) {
	a.mu.Lock()
	cached := a.servers[ip]
	a.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	certPEM, keyPEM, err := a.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: ip},
		IPAddresses: []net.IP{net.ParseIP(ip)}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("server certificate for %s: %w", ip, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("server key pair for %s: %w", ip, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.servers[ip] = &cert
	return &cert, nil
}

// clientIdentity is the SPIFFE identity of the client certificate, like an
// Istio workload certificate of Prometheus.
const clientIdentity = "spiffe://cluster.local/ns/monitoring/sa/prometheus"

// writeClientFiles writes root-cert.pem, cert-chain.pem and key.pem, the
// files Istio's certificate-writing sidecar gives Prometheus, and the same
// certificate as ca.crt, tls.crt and tls.key, the keys of a cert-manager
// Certificate's Secret.
func (a *authority) writeClientFiles(dir string) error {
	id, err := url.Parse(clientIdentity)
	if err != nil {
		return fmt.Errorf("client identity: %w", err)
	}
	certPEM, keyPEM, err := a.issue(&x509.Certificate{
		Subject: pkix.Name{CommonName: "prometheus"}, URIs: []*url.URL{id},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("client certificate: %w", err)
	}
	return writeFiles(dir, map[string][]byte{"root-cert.pem": a.certPEM, "cert-chain.pem": certPEM,
		"key.pem": keyPEM, "ca.crt": a.certPEM, "tls.crt": certPEM, "tls.key": keyPEM})
}

// writeServiceAccount writes token, ca.crt and namespace, the files of a
// pod's service-account volume.
func writeServiceAccount(dir, token string, caPEM []byte) error {
	return writeFiles(dir, map[string][]byte{"token": []byte(token), "ca.crt": caPEM,
		"namespace": []byte("monitoring")})
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flotilla-io/flotilla/internal/image/registry"
)

// clientCertificate returns a CA pool and a client certificate and key
// (PEM) it signed.
func clientCertificate(t *testing.T) (*x509.CertPool, []byte, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "scanner"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// TestClientCertificateIsPresented runs a registry that requires a client
// certificate signed by its CA, as registries behind mutual TLS do.
func TestClientCertificateIsPresented(t *testing.T) {
	pool, certPEM, keyPEM := clientCertificate(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/team/app/tags/list" {
			fmt.Fprint(w, `{"tags":["v1","v2"]}`)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	image := strings.TrimPrefix(srv.URL, "https://") + "/team/app"
	fast := registry.WithRetry(remote.Backoff{Steps: 1})

	c, err := registry.New(image, registry.WithCA(serverCA), registry.WithClientCertificate(certPEM, keyPEM), fast)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTags(context.Background(), nil, 10)
	if err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if diff := cmp.Diff([]string{"v1", "v2"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	without, err := registry.New(image, registry.WithCA(serverCA), fast)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := without.ListTags(context.Background(), nil, 10); !errors.Is(err, registry.ErrTLS) {
		t.Fatalf("without a client certificate: error = %v, want the handshake refused", err)
	}
}

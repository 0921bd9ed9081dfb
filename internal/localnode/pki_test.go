package localnode

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readCert parses the PEM certificate at path.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestNewAuthorityWritesACACertificateAndKey(t *testing.T) {
	dir := t.TempDir()
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ca.CertFile() != filepath.Join(dir, "ca.crt") {
		t.Errorf("CertFile = %s", ca.CertFile())
	}
	cert := readCert(t, ca.CertFile())
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate: IsCA %v, key usage %v, want a CA that signs certificates", cert.IsCA, cert.KeyUsage)
	}
	if cert.Subject.CommonName != "flotilla-test-ground-ca" {
		t.Errorf("CA common name %q", cert.Subject.CommonName)
	}
	if time.Until(cert.NotAfter) < 365*24*time.Hour || time.Since(cert.NotBefore) < 0 {
		t.Errorf("CA valid %s to %s, want valid now and for years", cert.NotBefore, cert.NotAfter)
	}
	if _, err := tls.LoadX509KeyPair(ca.CertFile(), filepath.Join(dir, "ca.key")); err != nil {
		t.Errorf("ca.crt and ca.key are not a pair: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "ca.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("ca.key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestIssue(t *testing.T) {
	dir := t.TempDir()
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.certPEM)
	tests := []struct {
		name      string
		spec      certSpec
		wantUsage []x509.ExtKeyUsage
		wantIPs   []string
		wantDNS   []string
	}{
		{
			name:      "client-with-groups",
			spec:      certSpec{file: "admin", commonName: "flotilla-node-admin", orgs: []string{"system:masters"}},
			wantUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		},
		{
			name:      "client-hosts-are-ignored",
			spec:      certSpec{file: "kube-proxy", commonName: "system:kube-proxy", hosts: []string{"10.0.0.1"}},
			wantUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		},
		{
			name: "server-with-ips-and-names",
			spec: certSpec{file: "apiserver", commonName: "kube-apiserver", server: true,
				hosts: []string{NodeIP, "127.0.0.1", "kubernetes.default.svc", "localhost"}},
			wantUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			wantIPs:   []string{NodeIP, "127.0.0.1"},
			wantDNS:   []string{"kubernetes.default.svc", "localhost"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ca.issue(tt.spec); err != nil {
				t.Fatal(err)
			}
			certFile, keyFile := ca.pair(tt.spec.file)
			if certFile != filepath.Join(dir, tt.spec.file+".crt") || keyFile != filepath.Join(dir, tt.spec.file+".key") {
				t.Errorf("pair = %s, %s", certFile, keyFile)
			}
			if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
				t.Fatalf("the pair does not load: %v", err)
			}
			cert := readCert(t, certFile)
			if cert.Subject.CommonName != tt.spec.commonName || !cmp.Equal(cert.Subject.Organization, tt.spec.orgs) {
				t.Errorf("subject = %s %v, want %s %v", cert.Subject.CommonName, cert.Subject.Organization, tt.spec.commonName, tt.spec.orgs)
			}
			if diff := cmp.Diff(tt.wantUsage, cert.ExtKeyUsage); diff != "" {
				t.Errorf("extended key usage (-want +got):\n%s", diff)
			}
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if diff := cmp.Diff(tt.wantIPs, ips); diff != "" {
				t.Errorf("IP SANs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDNS, cert.DNSNames); diff != "" {
				t.Errorf("DNS SANs (-want +got):\n%s", diff)
			}
			usage := x509.ExtKeyUsageClientAuth
			if tt.spec.server {
				usage = x509.ExtKeyUsageServerAuth
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("the certificate does not verify against the CA: %v", err)
			}
			if cert.IsCA {
				t.Error("an issued certificate is a CA")
			}
		})
	}
}

func TestIssuedCertificatesHaveDistinctSerials(t *testing.T) {
	ca, err := newAuthority(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range []string{"a", "b", "c", "d"} {
		if err := ca.issue(certSpec{file: name, commonName: name}); err != nil {
			t.Fatal(err)
		}
		certFile, _ := ca.pair(name)
		serial := readCert(t, certFile).SerialNumber.String()
		if seen[serial] {
			t.Errorf("serial %s issued twice", serial)
		}
		seen[serial] = true
	}
}

func TestServingCertificateVerifiesForTheNodeAddress(t *testing.T) {
	c := &Cluster{NodeName: "flotilla-node", dir: t.TempDir()}
	if err := c.certificates(); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.ca.certPEM)
	for file, names := range map[string][]string{
		"apiserver":       {NodeIP, KubernetesServiceIP, "127.0.0.1", "kubernetes.default.svc." + ClusterDomain},
		"kubelet-serving": {NodeIP, "flotilla-node"},
		"registry":        {NodeIP, "127.0.0.1", "localhost"},
	} {
		cert := readCert(t, c.path("pki", file+".crt"))
		for _, name := range names {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
				t.Errorf("%s does not verify for %s: %v", file, name, err)
			}
		}
	}
	// Kubernetes reads a client certificate's CN as the user and its
	// organizations as groups.
	for file, want := range map[string][]string{
		"admin":                    {"flotilla-node-admin", "system:masters"},
		"apiserver-kubelet-client": {"kube-apiserver-kubelet-client", "system:masters"},
		"kubelet":                  {"system:node:flotilla-node", "system:nodes"},
		"controller-manager":       {"system:kube-controller-manager"},
		"scheduler":                {"system:kube-scheduler"},
		"kube-proxy":               {"system:kube-proxy"},
	} {
		cert := readCert(t, c.path("pki", file+".crt"))
		got := append([]string{cert.Subject.CommonName}, cert.Subject.Organization...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s user and groups (-want +got):\n%s", file, diff)
		}
	}
	if ip := net.ParseIP(NodeIP); ip == nil {
		t.Fatalf("NodeIP %q is no IP", NodeIP)
	}
}

func TestServiceAccountKey(t *testing.T) {
	dir := t.TempDir()
	keyFile, pubFile, err := serviceAccountKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("%s is no PEM RSA key", keyFile)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key of %d bits, want 2048", key.N.BitLen())
	}
	pubPEM, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	pubBlock, _ := pem.Decode(pubPEM)
	if pubBlock == nil || pubBlock.Type != "PUBLIC KEY" {
		t.Fatalf("%s is no PEM public key", pubFile)
	}
	pub, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(pub.(*rsa.PublicKey)) {
		t.Error("sa.pub is not the public half of sa.key")
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("sa.key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if !slices.Equal([]string{filepath.Base(keyFile), filepath.Base(pubFile)}, []string{"sa.key", "sa.pub"}) {
		t.Errorf("files %s, %s", keyFile, pubFile)
	}
}

func TestIssueFailsInADirectoryThatIsGone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := ca.issue(certSpec{file: "admin", commonName: "a"}); err == nil {
		t.Error("issue succeeded with its directory gone")
	}
}

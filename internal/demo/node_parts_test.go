package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/localnode"
)

func TestGetJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`{"version":"v1.0.0"}` + "\n"))
		case "/html":
			_, _ = w.Write([]byte("<html>not json</html>"))
		default:
			http.Error(w, `{"error":"gone"}`, http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if got, err := getJSON(ctx, srv.URL+"/ok"); err != nil || got != `{"version":"v1.0.0"}` {
		t.Errorf("getJSON(ok) = %q, %v; want the trimmed body", got, err)
	}
	if _, err := getJSON(ctx, srv.URL+"/html"); err == nil || !strings.Contains(err.Error(), "200 OK") {
		t.Errorf("a body that is not JSON: err = %v, want one with the status", err)
	}
	if _, err := getJSON(ctx, srv.URL+"/down"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503: err = %v, want one naming it", err)
	}
	if _, err := getJSON(ctx, "://bad"); err == nil {
		t.Error("a malformed URL gave no error")
	}
}

func TestCAData(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, []byte("FROM-FILE"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  rest.Config
		want string
	}{
		{"inline data wins", rest.Config{TLSClientConfig: rest.TLSClientConfig{CAData: []byte("INLINE"), CAFile: file}}, "INLINE"},
		{"read from the file", rest.Config{TLSClientConfig: rest.TLSClientConfig{CAFile: file}}, "FROM-FILE"},
		{"neither", rest.Config{}, ""},
		{"a missing file", rest.Config{TLSClientConfig: rest.TLSClientConfig{CAFile: file + ".missing"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cluster{name: "x", config: &tc.cfg}
			if got := string(c.caData()); got != tc.want {
				t.Errorf("caData = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRegistrySecrets(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("CA-PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	cl := fake.NewClientBuilder().WithScheme(v1alpha1.NewScheme()).Build()
	c := &cluster{name: "staging", client: cl, node: &localnode.Cluster{Registry: localnode.Registry{Host: "10.0.0.2:5000", CAFile: ca, Username: "bot", Password: "pw-7"}}}
	f := &fleet{}
	ctx := context.Background()
	if err := f.registrySecrets(ctx, c); err != nil {
		t.Fatal(err)
	}
	var pull corev1.Secret
	if err := cl.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: registrySecret}, &pull); err != nil {
		t.Fatal(err)
	}
	if pull.Type != corev1.SecretTypeDockerConfigJson {
		t.Errorf("type = %q, want %q", pull.Type, corev1.SecretTypeDockerConfigJson)
	}
	var cfg struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(pull.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
		t.Fatal(err)
	}
	auth, _ := base64.StdEncoding.DecodeString(cfg.Auths["10.0.0.2:5000"].Auth)
	if string(auth) != "bot:pw-7" {
		t.Errorf("auth for the registry = %q, want bot:pw-7", auth)
	}
	var caSecret corev1.Secret
	if err := cl.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: registryCASecret}, &caSecret); err != nil {
		t.Fatal(err)
	}
	if string(caSecret.Data["ca.crt"]) != "CA-PEM" {
		t.Errorf("ca.crt = %q", caSecret.Data["ca.crt"])
	}
	err := f.registrySecrets(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "creating Secret "+Namespace+"/"+registrySecret+" on staging") {
		t.Errorf("a second run: err = %v, want one naming the Secret and the cluster", err)
	}
	if strings.Contains(err.Error(), "pw-7") {
		t.Errorf("the error shows the registry's password: %v", err)
	}
}

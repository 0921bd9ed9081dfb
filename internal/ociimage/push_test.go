package ociimage

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	testUser     = "fleet-bot"
	testPassword = "s3cret-registry-password"
)

// testRegistry is an in-process registry over TLS with basic auth, and a
// file holding its CA certificate.
type testRegistry struct {
	host   string
	caFile string
}

func newTestRegistry(t *testing.T) testRegistry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewTLSServer(basicAuth(reg, testUser, testPassword))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return testRegistry{host: strings.TrimPrefix(srv.URL, "https://"), caFile: caFile}
}

// basicAuth answers 401 with a Basic challenge unless the request carries
// user and password, as Debian's docker-registry with htpasswd does.
func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func testImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	img, err := Build([]File{{Path: "/app", Mode: 0o755, Data: []byte("app for " + arch)}},
		Config{Entrypoint: []string{"/app"}, Platform: v1.Platform{OS: "linux", Architecture: arch}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestPushAndPull(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := context.Background()
	img := testImage(t, "amd64")
	ref := reg.host + "/flotilla/app:v1"
	opts := []Option{WithCAFile(reg.caFile), WithBasicAuth(testUser, testPassword)}

	pushed, err := Push(ctx, img, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := digest(t, img); pushed != want {
		t.Errorf("Push returned %s, want the image's digest %s", pushed, want)
	}
	pulled, err := Pull(ctx, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got := digest(t, pulled); got != pushed {
		t.Errorf("pulled digest %s, want %s", got, pushed)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("pulled image is invalid: %v", err)
	}
	if got := layerContents(t, pulled)["app"].data; got != "app for amd64" {
		t.Errorf("pulled /app = %q", got)
	}
}

func TestPushIndex(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := context.Background()
	idx, err := Index(testImage(t, "amd64"), testImage(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.host + "/flotilla/app:multi"
	opts := []Option{WithCAFile(reg.caFile), WithBasicAuth(testUser, testPassword)}
	if _, err := Push(ctx, idx, ref, opts...); err != nil {
		t.Fatal(err)
	}
	tr, _ := registryOptions{caFile: reg.caFile}.transport()
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := remote.Image(mustParse(t, ref), remote.WithTransport(tr),
			remote.WithAuth(registryOptions{username: testUser, password: testPassword}.authenticator()),
			remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
		if err != nil {
			t.Fatal(err)
		}
		if got := layerContents(t, img)["app"].data; got != "app for "+arch {
			t.Errorf("%s: /app = %q", arch, got)
		}
	}
}

func TestPushFails(t *testing.T) {
	reg := newTestRegistry(t)
	ref := reg.host + "/flotilla/app:v1"
	tests := []struct {
		name             string
		ref              string
		opts             []Option
		wantUnauthorized bool
		wantErr          string
	}{{
		name:             "wrong-password",
		ref:              ref,
		opts:             []Option{WithCAFile(reg.caFile), WithBasicAuth(testUser, "wrong-password-123")},
		wantUnauthorized: true,
		wantErr:          `push ` + ref + ` to registry ` + reg.host + `: the registry refused the credentials (user "fleet-bot")`,
	}, {
		name:             "no-credentials",
		ref:              ref,
		opts:             []Option{WithCAFile(reg.caFile)},
		wantUnauthorized: true,
		wantErr:          "the registry refused the credentials",
	}, {
		name:    "unknown-ca",
		ref:     ref,
		opts:    []Option{WithBasicAuth(testUser, testPassword)},
		wantErr: "certificate signed by unknown authority",
	}, {
		name:    "unreachable-registry",
		ref:     "localhost.invalid.example:1/app:v1",
		opts:    []Option{WithBasicAuth(testUser, testPassword)},
		wantErr: "push localhost.invalid.example:1/app:v1 to registry localhost.invalid.example:1",
	}, {
		name:    "ca-file-without-certificates",
		ref:     ref,
		opts:    []Option{WithCAFile(os.DevNull)},
		wantErr: "holds no PEM certificate",
	}, {
		name:    "reference-with-userinfo",
		ref:     testUser + ":" + testPassword + "@" + reg.host + "/app:v1",
		wantErr: "push " + reg.host + "/app:v1: not an image reference",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, err := Push(ctx, testImage(t, "amd64"), tt.ref, tt.opts...)
			if err == nil {
				t.Fatal("Push succeeded")
			}
			var rerr *RegistryError
			if !errors.As(err, &rerr) {
				t.Errorf("error %T is not a *RegistryError", err)
			}
			if got := errors.Is(err, ErrUnauthorized); got != tt.wantUnauthorized {
				t.Errorf("errors.Is(err, ErrUnauthorized) = %v, want %v: %v", got, tt.wantUnauthorized, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), "wrong-password-123") {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
}

func TestStripUserinfo(t *testing.T) {
	tests := map[string]string{
		"user:pass@registry:5000/app:v1":           "registry:5000/app:v1",
		"https://user:pass@registry/app":           "registry/app",
		"user:pass@registry":                       "registry",
		"registry/app@sha256:abc":                  "registry/app@sha256:abc",
		"app@sha256:abc":                           "app@sha256:abc",
		"registry.example.com/flotilla:v0.1.0":     "registry.example.com/flotilla:v0.1.0",
		"token@registry.example.com/flotilla:bad!": "registry.example.com/flotilla:bad!",
	}
	for in, want := range tests {
		if got := stripUserinfo(in); got != want {
			t.Errorf("stripUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

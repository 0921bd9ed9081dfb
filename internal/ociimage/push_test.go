package ociimage

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
)

const (
	testUser     = "fleet-bot"
	testPassword = "s3cret-registry-password"
)

func newTestRegistry(t *testing.T) ocitest.Registry {
	return ocitest.NewRegistry(t, testUser, testPassword)
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
	ref := reg.Host + "/flotilla/app:v1"
	opts := []Option{WithCAFile(reg.CAFile), WithBasicAuth(testUser, testPassword)}

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
	ref := reg.Host + "/flotilla/app:multi"
	opts := []Option{WithCAFile(reg.CAFile), WithBasicAuth(testUser, testPassword)}
	if _, err := Push(ctx, idx, ref, opts...); err != nil {
		t.Fatal(err)
	}
	tr, _ := registryOptions{caFile: reg.CAFile}.transport()
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
	ref := reg.Host + "/flotilla/app:v1"
	tests := []struct {
		name             string
		ref              string
		opts             []Option
		wantUnauthorized bool
		wantErr          string
	}{{
		name:             "wrong-password",
		ref:              ref,
		opts:             []Option{WithCAFile(reg.CAFile), WithBasicAuth(testUser, "wrong-password-123")},
		wantUnauthorized: true,
		wantErr:          `push ` + ref + ` to registry ` + reg.Host + `: the registry refused the credentials (user "fleet-bot")`,
	}, {
		name:             "no-credentials",
		ref:              ref,
		opts:             []Option{WithCAFile(reg.CAFile)},
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
		ref:     testUser + ":" + testPassword + "@" + reg.Host + "/app:v1",
		wantErr: "push " + reg.Host + "/app:v1: not an image reference",
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

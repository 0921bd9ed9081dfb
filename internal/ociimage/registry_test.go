package ociimage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestRegistryErrorMessage(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		name string
		err  *RegistryError
		want string
	}{
		{"with the registry", &RegistryError{Op: "push", Ref: "registry.example.com/app:v1", Registry: "registry.example.com", Err: cause}, "push registry.example.com/app:v1 to registry registry.example.com: connection refused"},
		{"a reference that did not parse", &RegistryError{Op: "pull", Ref: "Bad Ref", Err: cause}, "pull Bad Ref: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, cause) {
				t.Error("a RegistryError does not unwrap to its cause")
			}
		})
	}
}

func TestFailNamesUnauthorizedAndForbiddenOnly(t *testing.T) {
	r := request{op: "push", ref: mustParse(t, "registry.example.com/flotilla/app:v1"), username: "fleet-bot"}
	for _, tc := range []struct {
		code             int
		wantUnauthorized bool
	}{
		{http.StatusUnauthorized, true},
		{http.StatusForbidden, true},
		{http.StatusNotFound, false},
		{http.StatusInternalServerError, false},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			terr := &transport.Error{StatusCode: tc.code}
			err := r.fail(fmt.Errorf("PUT manifest: %w", terr))
			if got := errors.Is(err, ErrUnauthorized); got != tc.wantUnauthorized {
				t.Errorf("errors.Is(ErrUnauthorized) = %v, want %v: %v", got, tc.wantUnauthorized, err)
			}
			var back *transport.Error
			if !errors.As(err, &back) || back.StatusCode != tc.code {
				t.Errorf("the registry's answer is lost: %v", err)
			}
			want := "push registry.example.com/flotilla/app:v1 to registry registry.example.com: "
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start with %q", err, want)
			}
			if tc.wantUnauthorized && !strings.Contains(err.Error(), `the registry refused the credentials (user "fleet-bot")`) {
				t.Errorf("error = %q, want it to name the user", err)
			}
		})
	}
}

func TestPrepareParsesTheReferenceWithTheOptions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ref        string
		opts       []Option
		wantScheme string
		wantRef    string
	}{
		{"https by default", "registry.example.com/flotilla:v1", nil, "https", "registry.example.com/flotilla:v1"},
		{"http when insecure", "registry.example.com/flotilla:v1", []Option{WithInsecure()}, "http", "registry.example.com/flotilla:v1"},
		{"docker hub by default", "flotilla", nil, "https", "index.docker.io/library/flotilla:latest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, opts, err := prepare(context.Background(), "push", tc.ref, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.ref.Context().Scheme(); got != tc.wantScheme || r.ref.Name() != tc.wantRef || len(opts) != 3 {
				t.Errorf("prepare(%q) = %s via %s, %d options; want %s via %s, 3 options", tc.ref, r.ref.Name(), got, len(opts), tc.wantRef, tc.wantScheme)
			}
		})
	}
}

func TestPrepareRefusesAMissingCAFileNamingTheRegistry(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ca.pem")
	_, _, err := prepare(context.Background(), "pull", "registry.example.com/flotilla:v1", []Option{WithCAFile(missing)})
	var rerr *RegistryError
	if !errors.As(err, &rerr) || rerr.Op != "pull" || rerr.Registry != "registry.example.com" || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error = %#v, want a pull RegistryError of registry.example.com wrapping a missing file", err)
	}
	if want := "read the CA bundle: open " + missing; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func TestAuthenticator(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want authn.AuthConfig
	}{
		{"none is anonymous", nil, authn.AuthConfig{}},
		{"basic auth", []Option{WithBasicAuth("bot", "pw")}, authn.AuthConfig{Username: "bot", Password: "pw"}},
		{"the last option wins", []Option{WithBasicAuth("old", "old-pw"), WithBasicAuth("bot", "pw")}, authn.AuthConfig{Username: "bot", Password: "pw"}},
		{"a password without a user still logs in", []Option{WithBasicAuth("", "token")}, authn.AuthConfig{Password: "token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o registryOptions
			for _, opt := range tc.opts {
				opt(&o)
			}
			got, err := o.authenticator().Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("authorization = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestPullOfAnIndexIsTheImageOfThisPlatform(t *testing.T) {
	reg := newTestRegistry(t)
	other := "s390x"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	here := testImage(t, runtime.GOARCH)
	idx, err := Index(testImage(t, other), here)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ref := reg.Host + "/flotilla/app:multi"
	opts := []Option{WithCAFile(reg.CAFile), WithBasicAuth(testUser, testPassword)}
	if _, err := Push(ctx, idx, ref, opts...); err != nil {
		t.Fatal(err)
	}
	img, err := Pull(ctx, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(t, img), digest(t, here); got != want {
		t.Errorf("Pull of an index gave %s, want the linux/%s image %s", got, runtime.GOARCH, want)
	}
}

func TestPullFails(t *testing.T) {
	reg := newTestRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ca := WithCAFile(reg.CAFile)
	missing := reg.Host + "/flotilla/app:missing"
	for _, tc := range []struct {
		name             string
		ref              string
		opts             []Option
		wantUnauthorized bool
		wantPrefix       string
	}{
		{"a tag the registry lacks", missing, []Option{ca, WithBasicAuth(testUser, testPassword)}, false, "pull " + missing + " to registry " + reg.Host + ": "},
		{"a wrong password", missing, []Option{ca, WithBasicAuth(testUser, "wrong-password-123")}, true, "pull " + missing + " to registry " + reg.Host + `: the registry refused the credentials (user "fleet-bot")`},
		{"not a reference", "Registry/UPPER:v1", nil, false, "pull Registry/UPPER:v1: not an image reference such as registry.example.com/flotilla:v0.1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pull(ctx, tc.ref, tc.opts...)
			if err == nil {
				t.Fatal("Pull succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.wantPrefix) || errors.Is(err, ErrUnauthorized) != tc.wantUnauthorized {
				t.Errorf("error = %q (unauthorized %t); want it to start with %q (unauthorized %t)", err, errors.Is(err, ErrUnauthorized), tc.wantPrefix, tc.wantUnauthorized)
			}
			if strings.Contains(err.Error(), "wrong-password-123") || strings.Contains(err.Error(), testPassword) {
				t.Errorf("the error holds a password: %v", err)
			}
		})
	}
}

func TestPushWithACancelledContext(t *testing.T) {
	reg := newTestRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Push(ctx, testImage(t, "amd64"), reg.Host+"/flotilla/app:v1", WithCAFile(reg.CAFile), WithBasicAuth(testUser, testPassword))
	var rerr *RegistryError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &rerr) {
		t.Errorf("Push with a cancelled context = %v, want a RegistryError wrapping context.Canceled", err)
	}
}

func TestStripUserinfoOfMoreShapes(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:pass@registry:5000/app:v1":   "registry:5000/app:v1",
		"user:pass@registry:5000":                 "registry:5000",
		"a@b:c@registry/app":                      "registry/app",
		"user@registry:5000/app@sha256:abc":       "registry:5000/app@sha256:abc",
		"registry:5000/app@sha256:abc":            "registry:5000/app@sha256:abc",
		"user:pass@registry/team/app:v1@sha256:a": "registry/team/app:v1@sha256:a",
		"": "",
	} {
		if got := stripUserinfo(in); got != want {
			t.Errorf("stripUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

package ocitest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TagImage pushes a small image (its config names seed, so two seeds give
// two digests) to host/repo and points every tag at it: one image upload,
// then one manifest PUT per tag. It returns the image's digest.
func TagImage(ctx context.Context, r Registry, username, password, repo, seed string, tags ...string) (v1.Hash, error) {
	img, err := mutate.Config(empty.Image, v1.Config{Labels: map[string]string{"seed": seed}})
	if err != nil {
		return v1.Hash{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	opts, err := r.remoteOptions(ctx, username, password)
	if err != nil {
		return v1.Hash{}, err
	}
	pusher, err := remote.NewPusher(opts...) // one connection and login for every tag
	if err != nil {
		return v1.Hash{}, err
	}
	for i, tag := range tags {
		ref, err := name.NewTag(r.Host + "/" + repo + ":" + tag)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("tag %q: %w", tag, err)
		}
		if i == 0 {
			err = pusher.Push(ctx, ref, img)
		} else {
			err = pusher.Put(ctx, ref, img)
		}
		if err != nil {
			return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return digest, nil
}

// PushTags is TagImage for tests: it fails the test on error.
func PushTags(t testing.TB, r Registry, username, password, repo, seed string, tags ...string) v1.Hash {
	t.Helper()
	d, err := TagImage(context.Background(), r, username, password, repo, seed, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// CAPEM returns the registry's CA certificate, PEM encoded.
func (r Registry) CAPEM() ([]byte, error) { return os.ReadFile(r.CAFile) }

func (r Registry) remoteOptions(ctx context.Context, username, password string) ([]remote.Option, error) {
	ca, err := r.CAPEM()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return []remote.Option{
		remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: username, Password: password})),
	}, nil
}

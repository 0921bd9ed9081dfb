package ocitest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// readOptions are what a client of the registry uses to read it back.
func readOptions(t *testing.T, reg Registry, username, password string) []remote.Option {
	t.Helper()
	opts, err := reg.remoteOptions(context.Background(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// The tags TagImage pushes are listed by the registry and resolve to the
// digest it returned.
func TestTagImageTagsAreListedAndResolve(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	d1 := PushTags(t, reg, "bot", "s3cret", "team/app", "one", "1.0.0", "1.1.0", "latest")
	d2 := PushTags(t, reg, "bot", "s3cret", "team/app", "two", "2.0.0")
	opts := readOptions(t, reg, "bot", "s3cret")
	repo, err := name.NewRepository(reg.Host + "/team/app")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(repo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(tags)
	if diff := cmp.Diff([]string{"1.0.0", "1.1.0", "2.0.0", "latest"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	for tag, want := range map[string]string{"1.0.0": d1.String(), "latest": d1.String(), "2.0.0": d2.String()} {
		desc, err := remote.Head(repo.Tag(tag), opts...)
		if err != nil {
			t.Fatalf("HEAD %s: %v", tag, err)
		}
		if desc.Digest.String() != want {
			t.Errorf("%s resolves to %s, want %s", tag, desc.Digest, want)
		}
	}
}

// The pushed image's config carries the seed, the one thing that makes two
// images differ.
func TestTagImageConfigCarriesTheSeed(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	PushTags(t, reg, "bot", "s3cret", "seeded", "marker-seed", "v1")
	img, err := remote.Image(mustRef(t, reg.Host+"/seeded:v1"), readOptions(t, reg, "bot", "s3cret")...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Labels["seed"]; got != "marker-seed" {
		t.Errorf("label seed = %q, want marker-seed", got)
	}
}

// Reading without credentials is refused with 401, as a registry with
// htpasswd does.
func TestRegistryRefusesAnonymousReads(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	PushTags(t, reg, "bot", "s3cret", "private", "x", "v1")
	opts := readOptions(t, reg, "bot", "s3cret")
	opts = append(opts, remote.WithAuth(authn.Anonymous))
	_, err := remote.List(mustRef(t, reg.Host+"/private:v1").Context(), opts...)
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous list = %v, want HTTP 401", err)
	}
}

// The registry's certificate is trusted only through its CA file: a
// client with the system roots fails the handshake.
func TestRegistryTLSNeedsItsCA(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	if resp, err := plain.Get("https://" + reg.Host + "/v2/"); err == nil {
		resp.Body.Close()
		t.Fatal("a client without the registry's CA completed the handshake")
	}
	ca, err := reg.CAPEM()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("the CA file holds no certificate")
	}
	trusted := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+reg.Host+"/v2/", nil)
	req.SetBasicAuth("bot", "s3cret")
	resp, err := trusted.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ with the CA and credentials = %d, want 200", resp.StatusCode)
	}
}

// After Close the registry is down: a push fails.
func TestClosedRegistryRefusesPushes(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	reg.Close()
	_, err := TagImage(context.Background(), reg, "bot", "s3cret", "team/app", "a", "v1")
	if err == nil || !strings.Contains(err.Error(), "push "+reg.Host+"/team/app:v1") {
		t.Errorf("push to a closed registry = %v, want an error naming the reference", err)
	}
}

// A cancelled context stops a push before it reaches the registry.
func TestTagImageHonoursCancellation(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := TagImage(ctx, reg, "bot", "s3cret", "team/app", "a", "v1"); !errors.Is(err, context.Canceled) {
		t.Errorf("push with a cancelled context = %v, want context.Canceled", err)
	}
}

// No tags pushes nothing and still returns the image's digest.
func TestTagImageWithoutTags(t *testing.T) {
	reg := NewRegistry(t, "bot", "s3cret")
	d, err := TagImage(context.Background(), reg, "bot", "s3cret", "team/empty", "a")
	if err != nil {
		t.Fatal(err)
	}
	if want := PushTags(t, reg, "bot", "s3cret", "team/other", "a", "v1"); d != want {
		t.Errorf("digest without tags %s, want the seed's %s", d, want)
	}
	_, err = remote.List(mustRef(t, reg.Host+"/team/empty:x").Context(), readOptions(t, reg, "bot", "s3cret")...)
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Errorf("list of a repository never pushed = %v, want HTTP 404", err)
	}
}

package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flotilla-io/flotilla/internal/image/registry"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
)

const (
	user     = "scanner"
	password = "s3cret-registry-password"
)

// dockerConfig is a .dockerconfigjson for host, in the "auth" form.
func dockerConfig(host, u, p string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(u + ":" + p))
	return fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)
}

func newClient(t *testing.T, reg ocitest.Registry, image string, cfg []byte, opts ...registry.Option) *registry.Client {
	t.Helper()
	ca, err := reg.CAPEM()
	if err != nil {
		t.Fatal(err)
	}
	var auths registry.Auths
	if cfg != nil {
		if err := auths.Add("Secret test/creds", cfg); err != nil {
			t.Fatal(err)
		}
	}
	fast := registry.WithRetry(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 1})
	c, err := registry.New(image, append([]registry.Option{registry.WithAuths(&auths), registry.WithCA(ca), fast}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListTagsPagesThroughEveryTagAndAppliesTheExclusionList(t *testing.T) {
	reg := ocitest.NewRegistry(t, user, password)
	var tags []string
	for i := range 25 {
		tags = append(tags, fmt.Sprintf("1.0.%d", i))
	}
	tags = append(tags, "1.0.3.sig", "latest")
	ocitest.PushTags(t, reg, user, password, "team/app", "a", tags...)

	c := newClient(t, reg, reg.Host+"/team/app", dockerConfig(reg.Host, user, password), registry.WithPageSize(7))
	keep, err := registry.Excluder([]string{`^.*\.sig$`})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTags(context.Background(), keep, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return strings.HasSuffix(s, ".sig") })
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}
	if c.CanonicalName() != reg.Host+"/team/app" {
		t.Errorf("canonical name = %q", c.CanonicalName())
	}
}

func TestListTagsOfAnExactMultipleOfThePageSize(t *testing.T) {
	// go-containerregistry's registry sends no Link header and answers a
	// last= naming its final tag with every tag again.
	reg := ocitest.NewRegistry(t, user, password)
	ocitest.PushTags(t, reg, user, password, "app", "a", "a", "b", "c", "d", "e", "f")
	c := newClient(t, reg, reg.Host+"/app", dockerConfig(reg.Host, user, password), registry.WithPageSize(3))
	got, err := c.ListTags(context.Background(), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e", "f"}, got); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}
}

func TestListTagsBeyondTheBoundNamesCountAndBound(t *testing.T) {
	reg := ocitest.NewRegistry(t, user, password)
	ocitest.PushTags(t, reg, user, password, "app", "a", "a", "b", "c", "d", "e")
	c := newClient(t, reg, reg.Host+"/app", dockerConfig(reg.Host, user, password), registry.WithPageSize(2))
	_, err := c.ListTags(context.Background(), nil, 3)
	var tm *registry.TooManyTagsError
	if !errors.As(err, &tm) || !errors.Is(err, registry.ErrTooManyTags) {
		t.Fatalf("error = %v, want a TooManyTagsError", err)
	}
	if tm.Count != 5 || tm.Max != 3 || !strings.Contains(err.Error(), "5 tags") || !strings.Contains(err.Error(), "maxTags 3") {
		t.Fatalf("error %q does not name the count 5 and the bound 3", err)
	}
}

func TestRefusedCredentialsAreAuthenticationFailedWithoutThePassword(t *testing.T) {
	reg := ocitest.NewRegistry(t, user, password)
	ocitest.PushTags(t, reg, user, password, "app", "a", "v1")
	for name, cfg := range map[string][]byte{
		"wrong password": dockerConfig(reg.Host, user, "wrong-password-value"),
		"no credentials": nil,
		"other host":     dockerConfig("elsewhere.example.com", user, password),
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, reg, reg.Host+"/app", cfg)
			_, err := c.ListTags(context.Background(), nil, 10)
			if !errors.Is(err, registry.ErrAuthentication) {
				t.Fatalf("error = %v, want ErrAuthentication", err)
			}
			for _, secret := range []string{"wrong-password-value", password, base64.StdEncoding.EncodeToString([]byte(user + ":wrong-password-value"))} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q holds a credential", err)
				}
			}
			if !strings.Contains(err.Error(), reg.Host) {
				t.Errorf("error %q does not name the registry", err)
			}
		})
	}
}

func TestUnreachableRegistryAndUntrustedCertificate(t *testing.T) {
	reg := ocitest.NewRegistry(t, user, password)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	c := newClient(t, reg, down+"/app", dockerConfig(down, user, password))
	if _, err := c.ListTags(context.Background(), nil, 10); !errors.Is(err, registry.ErrUnreachable) {
		t.Fatalf("registry down: error = %v, want ErrUnreachable", err)
	}

	noCA, err := registry.New(reg.Host+"/app", registry.WithRetry(remote.Backoff{Steps: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noCA.ListTags(context.Background(), nil, 10); !errors.Is(err, registry.ErrTLS) {
		t.Fatalf("untrusted certificate: error = %v, want ErrTLS", err)
	}
}

func TestDigestOfATag(t *testing.T) {
	reg := ocitest.NewRegistry(t, user, password)
	want := ocitest.PushTags(t, reg, user, password, "app", "one", "v1")
	c := newClient(t, reg, reg.Host+"/app", dockerConfig(reg.Host, user, password))
	got, err := c.Digest(context.Background(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Fatalf("digest = %s, want %s", got, want)
	}
	if _, err := c.Digest(context.Background(), "missing"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing tag: error = %v, want ErrNotFound", err)
	}
}

func TestInvalidInputs(t *testing.T) {
	if _, err := registry.New("Not An Image!"); !errors.Is(err, registry.ErrInvalidImage) {
		t.Errorf("bad image: %v", err)
	}
	if _, err := registry.New("r.example.com/app", registry.WithCA([]byte("nope"))); !errors.Is(err, registry.ErrInvalidCertificate) {
		t.Errorf("bad CA: %v", err)
	}
	if _, err := registry.New("r.example.com/app", registry.WithClientCertificate([]byte("a"), []byte("b"))); !errors.Is(err, registry.ErrInvalidCertificate) {
		t.Errorf("bad client certificate: %v", err)
	}
	_, err := registry.Excluder([]string{`ok`, `(`})
	var pe *registry.PatternError
	if !errors.As(err, &pe) || pe.Field != "spec.exclusionList[1]" {
		t.Errorf("bad pattern: %v", err)
	}
	var a registry.Auths
	if err := a.Add("Secret ns/s", []byte(`{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}`)); !errors.Is(err, registry.ErrInvalidDockerConfig) || strings.Contains(err.Error(), "bm9jb2xvbg") {
		t.Errorf("auth without a colon: %v", err)
	}
}

func TestCredentialsAreNotForwardedOnARedirectToAnotherHost(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"tags":["stolen"]}`)
	}))
	defer other.Close()
	reg := httptest.NewServer(ocitest.BasicAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}), user, password))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	var auths registry.Auths
	if err := auths.Add("test", dockerConfig(host, user, password)); err != nil {
		t.Fatal(err)
	}
	c, err := registry.New(host+"/app", registry.WithAuths(&auths), registry.WithInsecure(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTags(context.Background(), nil, 10); err != nil {
		t.Logf("list through the redirect: %v", err)
	}
	got, hit := leaked.Load().(string)
	if !hit {
		t.Fatal("the redirect was not followed: the test proves nothing")
	}
	if got != "" {
		t.Fatalf("the other host received Authorization %q", got)
	}
}

package ociimage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact is what Push uploads: a v1.Image or a v1.ImageIndex.
type Artifact interface {
	Digest() (v1.Hash, error)
	MediaType() (types.MediaType, error)
	RawManifest() ([]byte, error)
}

var (
	_ Artifact = v1.Image(nil)
	_ Artifact = v1.ImageIndex(nil)
)

// ErrUnauthorized says the registry refused the credentials (or their
// absence).
var ErrUnauthorized = errors.New("the registry refused the credentials")

// RegistryError is a failed push or pull. Its message names the operation,
// the reference and the registry; it never holds a password.
type RegistryError struct {
	// Op is "push" or "pull".
	Op string
	// Ref is the image reference, without any userinfo.
	Ref string
	// Registry is the registry's host[:port], when the reference parsed.
	Registry string
	Err      error
}

func (e *RegistryError) Error() string {
	if e.Registry == "" {
		return fmt.Sprintf("%s %s: %v", e.Op, e.Ref, e.Err)
	}
	return fmt.Sprintf("%s %s to registry %s: %v", e.Op, e.Ref, e.Registry, e.Err)
}

func (e *RegistryError) Unwrap() error { return e.Err }

// Option configures how Push and Pull reach a registry.
type Option func(*registryOptions)

type registryOptions struct {
	caFile             string
	username, password string
	insecure           bool
}

// WithCAFile trusts the PEM certificates in path, besides the system's,
// for the registry's TLS.
func WithCAFile(path string) Option { return func(o *registryOptions) { o.caFile = path } }

// WithBasicAuth logs in with HTTP basic auth.
func WithBasicAuth(username, password string) Option {
	return func(o *registryOptions) { o.username, o.password = username, password }
}

// WithInsecure allows plain HTTP to the registry.
func WithInsecure() Option { return func(o *registryOptions) { o.insecure = true } }

// Push uploads a (an image or an index, with every blob it refers to) to
// ref and returns the digest of its manifest.
func Push(ctx context.Context, a Artifact, ref string, opts ...Option) (v1.Hash, error) {
	r, remoteOpts, err := prepare(ctx, "push", ref, opts)
	if err != nil {
		return v1.Hash{}, err
	}
	digest, err := a.Digest()
	if err != nil {
		return v1.Hash{}, r.fail(err)
	}
	if err := remote.Push(r.ref, a, remoteOpts...); err != nil {
		return v1.Hash{}, r.fail(err)
	}
	return digest, nil
}

// Pull returns the image at ref; for an index, its image for
// DefaultPlatform.
func Pull(ctx context.Context, ref string, opts ...Option) (v1.Image, error) {
	r, remoteOpts, err := prepare(ctx, "pull", ref, opts)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r.ref, append(remoteOpts, remote.WithPlatform(DefaultPlatform()))...)
	if err != nil {
		return nil, r.fail(err)
	}
	return img, nil
}

// request is one push or pull, to name its errors.
type request struct {
	op       string
	ref      name.Reference
	username string
}

func (r request) fail(err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		err = fmt.Errorf("%w (user %q): %w", ErrUnauthorized, r.username, err)
	}
	return &RegistryError{Op: r.op, Ref: r.ref.String(), Registry: r.ref.Context().RegistryStr(), Err: err}
}

// prepare parses ref and turns opts into go-containerregistry's options.
func prepare(ctx context.Context, op, ref string, opts []Option) (request, []remote.Option, error) {
	var o registryOptions
	for _, opt := range opts {
		opt(&o)
	}
	var nameOpts []name.Option
	if o.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	parsed, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return request{}, nil, &RegistryError{Op: op, Ref: stripUserinfo(ref), Err: errors.New("not an image reference such as registry.example.com/flotilla:v0.1.0")}
	}
	r := request{op: op, ref: parsed, username: o.username}
	tr, err := o.transport()
	if err != nil {
		return request{}, nil, &RegistryError{Op: op, Ref: parsed.String(), Registry: parsed.Context().RegistryStr(), Err: err}
	}
	return r, []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr), remote.WithAuth(o.authenticator())}, nil
}

func (o registryOptions) authenticator() authn.Authenticator {
	if o.username == "" && o.password == "" {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: o.username, Password: o.password})
}

// transport is http.DefaultTransport trusting the CA file as well.
func (o registryOptions) transport() (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.caFile == "" {
		return tr, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("read the CA bundle: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the CA bundle %s holds no PEM certificate", o.caFile)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// stripUserinfo removes a scheme and a user[:password]@ from a reference
// that did not parse; the @ of a digest (name@sha256:...) stays.
func stripUserinfo(ref string) string {
	if _, after, ok := strings.Cut(ref, "://"); ok {
		ref = after
	}
	host, _, hasPath := strings.Cut(ref, "/")
	at := strings.LastIndex(host, "@")
	if at < 0 || (!hasPath && !strings.Contains(host[:at], ":")) {
		return ref
	}
	return ref[at+1:]
}

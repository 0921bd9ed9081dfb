package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// TagLister lists an image repository's tags and looks up their digests:
// the seam between the controllers and a registry.
type TagLister interface {
	// ListTags returns the tags that keep accepts, in the registry's order;
	// more than max of them is a *TooManyTagsError.
	ListTags(ctx context.Context, keep func(tag string) bool, max int) ([]string, error)
	// Digest returns the manifest digest of a tag, sha256:<hex>.
	Digest(ctx context.Context, tag string) (string, error)
}

var _ TagLister = (*Client)(nil)

// Client reaches one image repository.
type Client struct {
	repo     name.Repository
	auths    *Auths
	red      *redact.Redactor
	insecure bool
	pageSize int
	tlsCfg   *tls.Config
	backoff  remote.Backoff
}

// Option configures a Client.
type Option func(*Client) error

// WithAuths uses these credentials, by registry host.
func WithAuths(a *Auths) Option {
	return func(c *Client) error {
		c.auths = a
		c.red.Add(a.Secrets()...)
		return nil
	}
}

// WithCA trusts the PEM certificates in ca, besides the system's.
func WithCA(ca []byte) Option {
	return func(c *Client) error {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return fmt.Errorf("%w: ca.crt holds no PEM certificate", ErrInvalidCertificate)
		}
		c.tlsConfig().RootCAs = pool
		return nil
	}
}

// WithClientCertificate presents a client certificate (PEM) to the registry.
func WithClientCertificate(certPEM, keyPEM []byte) Option {
	return func(c *Client) error {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fmt.Errorf("%w: tls.crt and tls.key are not a PEM certificate and its key", ErrInvalidCertificate)
		}
		c.tlsConfig().Certificates = []tls.Certificate{cert}
		return nil
	}
}

// WithInsecure allows plain HTTP to the registry.
func WithInsecure(insecure bool) Option {
	return func(c *Client) error { c.insecure = insecure; return nil }
}

// WithPageSize sets how many tags one list request asks for.
func WithPageSize(n int) Option {
	return func(c *Client) error { c.pageSize = n; return nil }
}

// WithRetry sets the retries of a failed request (by default two, after
// 0.5s and 1.5s).
func WithRetry(b remote.Backoff) Option {
	return func(c *Client) error { c.backoff = b; return nil }
}

// DefaultPageSize is how many tags one list request asks for.
const DefaultPageSize = 1000

// New returns a Client for image, a repository without tag or digest.
func New(image string, opts ...Option) (*Client, error) {
	c := &Client{
		red:      redact.New(),
		pageSize: DefaultPageSize,
		backoff:  remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 3},
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	var nameOpts []name.Option
	if c.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	repo, err := name.NewRepository(image, nameOpts...)
	if err != nil {
		return nil, &Error{Op: "parse", Image: redact.URL(image), Registry: "(none)", Kind: ErrInvalidImage}
	}
	c.repo = repo
	return c, nil
}

// CanonicalName is the image's full name, such as
// index.docker.io/library/nginx.
func (c *Client) CanonicalName() string { return c.repo.Name() }

func (c *Client) tlsConfig() *tls.Config {
	if c.tlsCfg == nil {
		c.tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return c.tlsCfg
}

// options are go-containerregistry's options for one call.
func (c *Client) options(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.baseTransport()),
		remote.WithAuth(c.auths.authenticator(c.repo.Registry)),
		remote.WithPageSize(c.pageSize),
		remote.WithRetryBackoff(c.backoff),
		remote.WithUserAgent("flotilla"),
	}
}

// baseTransport is http.DefaultTransport with the client's TLS settings.
func (c *Client) baseTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.tlsCfg != nil {
		tr.TLSClientConfig = c.tlsCfg.Clone()
	}
	return tr
}

// ListTags lists every tag, page by page, and keeps those keep accepts (nil
// keeps all). Past max kept tags it goes on counting without keeping, and
// returns a *TooManyTagsError with the count.
func (c *Client) ListTags(ctx context.Context, keep func(string) bool, max int) ([]string, error) {
	const op = "list tags of"
	pages, err := c.pager(ctx)
	if err != nil {
		return nil, c.fail(op, c.repo.String(), err)
	}
	var tags []string
	count := 0
	for pages.more() {
		page, err := pages.next(ctx)
		if err != nil {
			return nil, c.fail(op, c.repo.String(), err)
		}
		for _, t := range page {
			if keep != nil && !keep(t) {
				continue
			}
			if count++; count <= max {
				tags = append(tags, t)
			}
		}
	}
	if count > max {
		return nil, &TooManyTagsError{Image: c.repo.String(), Count: count, Max: max}
	}
	return tags, nil
}

// Digest returns the manifest digest of tag, with a HEAD request, or a GET
// when the registry does not answer HEAD.
func (c *Client) Digest(ctx context.Context, tag string) (string, error) {
	const op = "look up the digest of"
	ref := c.repo.Tag(tag)
	puller, err := remote.NewPuller(c.options(ctx)...)
	if err != nil {
		return "", c.fail(op, ref.String(), err)
	}
	desc, err := puller.Head(ctx, ref)
	if err == nil {
		return desc.Digest.String(), nil
	}
	if classify(err) == ErrAuthentication {
		return "", c.fail(op, ref.String(), err)
	}
	full, err := puller.Get(ctx, ref)
	if err != nil {
		return "", c.fail(op, ref.String(), err)
	}
	return full.Digest.String(), nil
}

// Excluder returns a keep function that drops tags matching any of the
// patterns; a pattern that does not compile is an error naming it and its
// index, as spec.exclusionList[i].
func Excluder(patterns []string) (func(string) bool, error) {
	res := make([]*regexp.Regexp, 0, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, &PatternError{Field: fmt.Sprintf("spec.exclusionList[%d]", i), Pattern: p, Err: err}
		}
		res = append(res, re)
	}
	return func(tag string) bool {
		for _, re := range res {
			if re.MatchString(tag) {
				return false
			}
		}
		return true
	}, nil
}

// PatternError is a regular expression that does not compile.
type PatternError struct {
	// Field names the spec field, such as spec.exclusionList[0].
	Field   string
	Pattern string
	Err     error
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("%s: %q is not a valid regular expression: %v", e.Field, e.Pattern, e.Err)
}

func (e *PatternError) Unwrap() error { return e.Err }

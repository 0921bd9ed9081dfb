package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// DefaultTimeout bounds one delivery attempt when the Provider sets none.
const DefaultTimeout = 15 * time.Second

// ProviderConfig is a Provider's spec with the values of its Secret.
type ProviderConfig struct {
	// Type is the provider type, like slack or github.
	Type string
	// Address is the webhook URL, or the repository URL for commit statuses.
	Address string
	// Token is the HMAC key (generic-hmac) or API token (forges).
	Token string
	// Channel and Username override the webhook's (Slack, Discord).
	Channel  string
	Username string
	// Timeout bounds one attempt; 0 is DefaultTimeout.
	Timeout time.Duration
	// CA is a PEM bundle the service's certificate must chain to; empty
	// uses the system roots.
	CA []byte
}

// Notifier sends one message to a service.
type Notifier interface {
	Post(ctx context.Context, m Message) error
}

// request is one HTTP request a payload builder wants sent; nil means
// the message has nothing for this service (a commit status without a
// commit).
type request struct {
	url     string
	body    []byte
	headers map[string]string
}

// builder turns a message into the service's documented request.
type builder func(cfg ProviderConfig, m Message) (*request, error)

// builders holds one payload builder per provider type.
var builders = map[string]builder{
	"slack":        slackRequest,
	"msteams":      teamsRequest,
	"discord":      discordRequest,
	"generic":      genericRequest,
	"generic-hmac": genericHMACRequest,
	"github":       githubRequest,
	"gitlab":       gitlabRequest,
	"gitea":        giteaRequest,
}

// DeliveryError is a message a service did not take. Its text never holds
// the URL or the token: both are credentials for webhooks.
type DeliveryError struct {
	// Type is the provider type.
	Type string
	// Status is the HTTP status the service answered, 0 when none.
	Status int
	// Err is the cause, already redacted.
	Err error
}

func (e *DeliveryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s provider answered HTTP %d: %v", e.Type, e.Status, e.Err)
	}
	return fmt.Sprintf("posting to the %s provider: %v", e.Type, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// ErrUnknownType is a provider type with no payload builder.
var ErrUnknownType = errors.New("unknown provider type")

type httpNotifier struct {
	cfg    ProviderConfig
	build  builder
	client *http.Client
	red    *redact.Redactor
}

// NewNotifier returns the Notifier for cfg.Type.
func NewNotifier(cfg ProviderConfig) (Notifier, error) {
	build, ok := builders[cfg.Type]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, cfg.Type)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(cfg.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CA) {
			return nil, errors.New("certSecretRef: ca.crt holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &httpNotifier{
		cfg: cfg, build: build,
		// Redirects are not followed: a webhook URL or token must not be
		// forwarded to another host.
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		red: redact.New(secrets(cfg)...),
	}, nil
}

// secrets are the values of cfg that never leave in an error or a message:
// the token, the address and, for webhooks, the address's path and query,
// which a service may echo without the host (a webhook's path is its
// secret). A forge's address names a repository and is no secret.
func secrets(cfg ProviderConfig) []string {
	out := []string{cfg.Address, cfg.Token}
	if _, forge := forges[cfg.Type]; forge {
		return out
	}
	if u, err := url.Parse(cfg.Address); err == nil && u.Path != "/" {
		out = append(out, u.Path, u.EscapedPath(), u.RawQuery,
			strings.TrimPrefix(u.Path, "/"), strings.ReplaceAll(u.Path, "/", `\/`))
		out = append(out, pathTokens(u.Path)...)
	}
	return out
}

// pathTokens are the segments of a webhook's path a service may quote on
// their own: the last one (Slack's and Discord's token) and every one with
// a digit in it (team, channel and webhook ids, Teams' hex token). Route
// words such as services or IncomingWebhook are left readable.
func pathTokens(path string) []string {
	segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	var out []string
	for i, seg := range segs {
		if i == len(segs)-1 || strings.ContainsAny(seg, "0123456789") {
			out = append(out, seg)
		}
	}
	return out
}

// forges are the provider types whose address is a repository.
var forges = map[string]struct{}{"github": {}, "gitlab": {}, "gitea": {}}

// Post sends m once; the caller retries.
func (n *httpNotifier) Post(ctx context.Context, m Message) error {
	m.Event.Message = n.red.String(m.Event.Message)
	req, err := n.build(n.cfg, m)
	if err != nil || req == nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.url, bytes.NewReader(req.body))
	if err != nil {
		return &DeliveryError{Type: n.cfg.Type, Err: errors.New("the address is not a valid URL")}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "flotilla-notify")
	for k, v := range req.headers {
		hr.Header.Set(k, v)
	}
	resp, err := n.client.Do(hr)
	if err != nil {
		return &DeliveryError{Type: n.cfg.Type, Err: errors.New(n.red.String(cause(err).Error()))}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &DeliveryError{Type: n.cfg.Type, Status: resp.StatusCode, Err: errors.New(n.red.String(string(bytes.TrimSpace(snippet))))}
	}
	return nil
}

// cause strips the *url.Error wrapper, whose text holds the URL.
func cause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

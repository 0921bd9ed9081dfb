package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// DefaultTimeout bounds a call when the hook sets no timeout (Flagger's).
const DefaultTimeout = 10 * time.Second

// maxBody is how much of a failed answer's body goes into the error.
const maxBody = 256

// maxBodyRead is how much of a failed answer's body is read and masked
// before it is cut to maxBody: a secret that starts within the first
// maxBody bytes ends well within it, so it is masked whole, never cut in
// two with its first half shown.
const maxBodyRead = 64 << 10

// Payload is the JSON body of every call, Flagger's CanaryWebhookPayload.
type Payload struct {
	// Name of the Canary.
	Name string `json:"name"`
	// Namespace of the Canary.
	Namespace string `json:"namespace"`
	// Phase of the Canary at the call.
	Phase v1alpha1.CanaryPhase `json:"phase"`
	// Checksum identifies the revision under analysis: a hash of
	// status.lastAppliedSpec and status.trackedConfigs.
	Checksum string `json:"checksum"`
	// Metadata is the hook's metadata, or an event's fields.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Keys of an event's metadata (Flagger's).
const (
	EventMessageKey = "eventMessage"
	EventTypeKey    = "eventType"
	TimestampKey    = "timestamp"
)

// Caller calls webhooks over HTTP.
type Caller struct {
	client *http.Client
	now    func() time.Time
}

var _ canary.Hooks = (*Caller)(nil)

// Option configures a Caller.
type Option func(*Caller)

// WithTransport sends the calls through rt (a proxy, custom TLS roots).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Caller) { c.client.Transport = rt }
}

// WithClock sets the clock of event timestamps.
func WithClock(now func() time.Time) Option { return func(c *Caller) { c.now = now } }

// New returns a Caller.
func New(opts ...Option) *Caller {
	c := &Caller{
		client: &http.Client{
			// A webhook answers; a redirect is an answer that is not 2xx,
			// and following it could carry the payload elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Call POSTs Flagger's payload for phase to hook and returns an *Error
// unless it answered 2xx in time.
func (c *Caller) Call(ctx context.Context, cn *v1alpha1.Canary, hook v1alpha1.CanaryWebhook, phase v1alpha1.CanaryPhase) error {
	p := Payload{Name: cn.Name, Namespace: cn.Namespace, Phase: phase, Checksum: Checksum(cn), Metadata: hook.Metadata}
	return c.post(ctx, hook, p)
}

// Event sends an event to every webhook of type event, one after the
// other; a failure is logged and does not stop the others.
func (c *Caller) Event(ctx context.Context, cn *v1alpha1.Canary, eventType, message string) {
	for _, hook := range cn.Spec.Analysis.Webhooks {
		if hook.Type != v1alpha1.EventHook {
			continue
		}
		if err := c.post(ctx, hook, c.eventPayload(cn, hook, eventType, message)); err != nil {
			log.FromContext(ctx).Info("event webhook failed", "canary", cn.Namespace+"/"+cn.Name, "error", err.Error())
		}
	}
}

// eventPayload is Flagger's event payload: the Canary's current phase, the
// event in metadata, and the hook's metadata keys that do not collide.
func (c *Caller) eventPayload(cn *v1alpha1.Canary, hook v1alpha1.CanaryWebhook, eventType, message string) Payload {
	md := map[string]string{
		EventMessageKey: message,
		EventTypeKey:    eventType,
		TimestampKey:    strconv.FormatInt(c.now().UnixMilli(), 10),
	}
	for k, v := range hook.Metadata {
		if _, taken := md[k]; !taken {
			md[k] = v
		}
	}
	return Payload{Name: cn.Name, Namespace: cn.Namespace, Phase: cn.Status.Phase, Checksum: Checksum(cn), Metadata: md}
}

// post sends p to hook within its timeout.
func (c *Caller) post(ctx context.Context, hook v1alpha1.CanaryWebhook, p Payload) error {
	e := &Error{Hook: hook.Name, Type: hook.Type, Host: host(hook.URL)}
	red := urlSecrets(hook.URL)
	timeout, err := Timeout(hook)
	if err != nil {
		e.Err = err
		return e
	}
	body, err := json.Marshal(p)
	if err != nil {
		e.Err = err
		return e
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		e.Err = errors.New("the URL is not valid")
		return e
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		cause := transportError(err)
		e.Err = &redactedError{msg: red.Error(cause), err: cause}
		return e
	}
	defer resp.Body.Close()
	return answerError(e, resp, red)
}

// answerError returns e with the status and the start of the body of a
// non-2xx answer, nil for a 2xx one. The body is masked first and cut
// after, so a secret is never cut in two with a part of it shown.
func answerError(e *Error, resp *http.Response, red *redact.Redactor) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyRead))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	e.StatusCode = resp.StatusCode
	e.Body = cut(red.String(strings.TrimSpace(string(body))), maxBody)
	return e
}

// cut returns the first n bytes of s, without a rune cut in two.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// redactedError is a transport error whose message went through the
// hook's redactor; errors.Is and errors.As still find the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Timeout is the hook's timeout, DefaultTimeout when unset.
func Timeout(hook v1alpha1.CanaryWebhook) (time.Duration, error) {
	if hook.Timeout == "" {
		return DefaultTimeout, nil
	}
	d, err := canary.ParseWebhookTimeout(hook.Timeout)
	if err != nil {
		return 0, fmt.Errorf("timeout %w", err)
	}
	return d, nil
}

// transportError is err without the URL a *url.Error carries (its query
// string may hold a token).
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer in time: %w", err)
	}
	return err
}

// host is the host (and port) of a hook's URL, the only part of it errors
// carry.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Host
}

// urlSecrets masks the URL's user name and password (an http user name is
// often a token), the "user:password" pair that basic auth sends in base64,
// and the query values, should the receiver or a transport echo them; its
// String also strips the userinfo and query of any URL in the text.
func urlSecrets(raw string) *redact.Redactor {
	r := redact.New()
	u, err := url.Parse(raw)
	if err != nil {
		return r
	}
	if u.User != nil {
		p, _ := u.User.Password()
		r.Add(u.User.Username(), p, u.User.Username()+":"+p)
	}
	for _, vs := range u.Query() {
		r.Add(vs...)
	}
	return r
}

// Checksum identifies the revision a Canary analyses, from the same fields
// as Flagger's (status.lastAppliedSpec and status.trackedConfigs): equal
// for the same revision and configuration, different otherwise. It is not
// byte for byte Flagger's hash.
func Checksum(cn *v1alpha1.Canary) string {
	h := sha256.New()
	h.Write([]byte(cn.Status.LastAppliedSpec))
	keys := make([]string, 0, len(cn.Status.TrackedConfigs))
	for k := range cn.Status.TrackedConfigs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, cn.Status.TrackedConfigs[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Error is a failed webhook call.
type Error struct {
	// Hook is the webhook's name.
	Hook string
	// Type is the webhook's type.
	Type v1alpha1.HookType
	// Host is the host of the webhook's URL: never its path's query or
	// credentials.
	Host string
	// StatusCode is the answer's status; 0 when there was none.
	StatusCode int
	// Body is the start of the answer's body, redacted.
	Body string
	// Err is why there was no answer.
	Err error
}

func (e *Error) Error() string {
	what := fmt.Sprintf("webhook %q (%s) at %s", e.Hook, e.typeName(), e.Host)
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", what, e.Err)
	case e.Body != "":
		return fmt.Sprintf("%s answered %d %s: %s", what, e.StatusCode, http.StatusText(e.StatusCode), e.Body)
	default:
		return fmt.Sprintf("%s answered %d %s", what, e.StatusCode, http.StatusText(e.StatusCode))
	}
}

func (e *Error) typeName() v1alpha1.HookType {
	if e.Type == "" {
		return v1alpha1.RolloutHook
	}
	return e.Type
}

// Unwrap returns why there was no answer.
func (e *Error) Unwrap() error { return e.Err }

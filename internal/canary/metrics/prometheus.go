package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// run sends the query to its provider and returns its one value.
func (q query) run(ctx context.Context) (float64, error) {
	if t := q.provider.Type; t != "" && t != "prometheus" {
		return 0, fmt.Errorf("%s: provider type %q is not supported (prometheus is)", q.origin, t)
	}
	addr := redact.URL(q.provider.Address)
	u, err := url.Parse(q.provider.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, fmt.Errorf("%s: provider address %q is not an http(s) URL", q.origin, addr)
	}
	c, err := api.NewClient(api.Config{Address: q.provider.Address, RoundTripper: q.transport(u)})
	if err != nil {
		return 0, fmt.Errorf("%s: Prometheus client for %s: %w", q.origin, addr, err)
	}
	v, _, err := promv1.NewAPI(c).Query(ctx, q.promql, time.Now())
	if err != nil {
		return 0, fmt.Errorf("%s: querying Prometheus at %s: %w", q.origin, addr, queryError(err))
	}
	value, err := single(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", q.origin, err)
	}
	return value, nil
}

// queryError names what a failed query means, keeping the cause.
func queryError(err error) error {
	var perr *promv1.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer in time: %w", err)
	case errors.As(err, &perr) && perr.Type == promv1.ErrBadData:
		return fmt.Errorf("the query is not valid PromQL: %w", err)
	}
	return err
}

// single is the one number of a query's result: a scalar, or a vector of
// exactly one sample.
func single(v model.Value) (float64, error) {
	var f float64
	switch r := v.(type) {
	case *model.Scalar:
		f = float64(r.Value)
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, ErrNoValue
		case 1:
			f = float64(r[0].Value)
		default:
			return 0, fmt.Errorf("the query returned %d series, want one: aggregate it (sum, max...)", len(r))
		}
	default:
		return 0, fmt.Errorf("the query returned a %s, want a scalar or an instant vector", v.Type())
	}
	return f, checkValue(f)
}

// transport is the HTTP transport to the provider at u: its TLS setting,
// and its credentials sent only to u's host (never on a redirect away).
func (q query) transport(u *url.URL) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if q.provider.InsecureSkipVerify {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the MetricTemplate asks for it
	}
	if q.creds == (credentials{}) {
		return t
	}
	return &authTransport{next: t, scheme: u.Scheme, host: u.Host, creds: q.creds}
}

// authTransport adds basic authentication (when the Secret has username
// and password) or else a bearer token to requests to one host.
type authTransport struct {
	next         http.RoundTripper
	scheme, host string
	creds        credentials
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != a.host || r.URL.Scheme != a.scheme {
		return a.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	if a.creds.username != "" && a.creds.password != "" {
		r.SetBasicAuth(a.creds.username, a.creds.password)
	} else {
		r.Header.Set("Authorization", "Bearer "+a.creds.token)
	}
	return a.next.RoundTrip(r)
}

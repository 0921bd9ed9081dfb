package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestSingleNeedsExactlyOneNumber(t *testing.T) {
	sample := func(v float64) *model.Sample { return &model.Sample{Value: model.SampleValue(v)} }
	for _, tc := range []struct {
		name    string
		value   model.Value
		want    float64
		wantErr string
	}{
		{"a scalar", &model.Scalar{Value: 0.99}, 0.99, ""},
		{"a vector of one sample", model.Vector{sample(42)}, 42, ""},
		{"zero is a value", model.Vector{sample(0)}, 0, ""},
		{"an empty vector", model.Vector{}, 0, ErrNoValue.Error()},
		{"a vector of two series", model.Vector{sample(1), sample(2)}, 0, "the query returned 2 series, want one: aggregate it (sum, max...)"},
		{"a range vector", model.Matrix{}, 0, "the query returned a matrix, want a scalar or an instant vector"},
		{"a string", &model.String{Value: "x"}, 0, "the query returned a string, want a scalar or an instant vector"},
		{"NaN", model.Vector{sample(math.NaN())}, 0, "the query returned NaN (no requests in the interval, or a division by zero)"},
		{"+Inf", &model.Scalar{Value: model.SampleValue(math.Inf(1))}, 0, "the query returned +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := single(tc.value)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("single = %v, %v; want the error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("single = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := single(model.Vector{}); !errors.Is(err, ErrNoValue) {
		t.Errorf("an empty vector's error %v is not ErrNoValue", err)
	}
}

func TestQueryErrorSaysWhatAFailureMeansAndKeepsTheCause(t *testing.T) {
	deadline := fmt.Errorf("Post: %w", context.DeadlineExceeded)
	bad := &promv1.Error{Type: promv1.ErrBadData, Msg: `parse error: unexpected "}"`}
	server := &promv1.Error{Type: promv1.ErrServer, Msg: "server error: 503"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no answer in time", deadline, "no answer in time: Post: context deadline exceeded"},
		{"bad PromQL", bad, "the query is not valid PromQL: bad_data: parse error: unexpected \"}\""},
		{"another failure as it is", server, "server_error: server error: 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := queryError(tc.err)
			if got.Error() != tc.want {
				t.Errorf("queryError = %q, want %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("queryError lost its cause %v", tc.err)
			}
		})
	}
}

// A query never reaches the network with a provider it cannot use, and
// says so without the address's credentials.
func TestRunRefusesAProviderItCannotQuery(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider v1alpha1.MetricProvider
		want     string
	}{
		{"another provider type", v1alpha1.MetricProvider{Type: "datadog", Address: "https://api.datadoghq.com"},
			`template shop/errors: provider type "datadog" is not supported (prometheus is)`},
		{"not http", v1alpha1.MetricProvider{Address: "ftp://metrics.example:21/x"},
			`template shop/errors: provider address "ftp://metrics.example:21/x" is not an http(s) URL`},
		{"no scheme", v1alpha1.MetricProvider{Address: "prometheus.monitoring:9090"},
			`template shop/errors: provider address "prometheus.monitoring:9090" is not an http(s) URL`},
		{"no host", v1alpha1.MetricProvider{Type: "prometheus", Address: "http:///api"},
			`template shop/errors: provider address "http:///api" is not an http(s) URL`},
		{"credentials in a bad address never show", v1alpha1.MetricProvider{Address: "ftp://admin:pr0m-pass@metrics.example/x?token=t0k3n-value"},
			`template shop/errors: provider address "ftp://metrics.example/x" is not an http(s) URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := query{origin: "template shop/errors", promql: "vector(1)", provider: tc.provider}
			_, err := q.run(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Errorf("run = %v, want %q", err, tc.want)
			}
		})
	}
}

// recorder is a server that records the Authorization header it got.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

// roundTrip sends a GET of target through rt and returns the request as
// the caller made it.
func roundTrip(t *testing.T, rt http.RoundTripper, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return req
}

func TestProviderCredentialsGoToTheProviderHostOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds credentials
		want  string
	}{
		{"username and password are basic auth", credentials{username: "flagger", password: "pw"}, "Basic ZmxhZ2dlcjpwdw=="},
		{"a token is a bearer", credentials{token: "t0k"}, "Bearer t0k"},
		{"a username without a password falls back to the token", credentials{username: "flagger", token: "t0k"}, "Bearer t0k"},
		{"no credentials, no header", credentials{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			provider, elsewhere := newRecorder(t), newRecorder(t)
			u, err := url.Parse(provider.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			rt := query{creds: tc.creds}.transport(u)
			for _, target := range []string{provider.srv.URL + "/api/v1/query", elsewhere.srv.URL + "/api/v1/query"} {
				if sent := roundTrip(t, rt, target); sent.Header.Get("Authorization") != "" {
					t.Errorf("the caller's request to %s was changed: %q", target, sent.Header.Get("Authorization"))
				}
			}
			if got := provider.got(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("the provider got Authorization %q, want %q", got, tc.want)
			}
			if got := elsewhere.got(); len(got) != 1 || got[0] != "" {
				t.Errorf("another host got Authorization %q, want none", got)
			}
		})
	}
}

func TestCredentialsNeverGoToAnotherSchemeOfTheSameHost(t *testing.T) {
	provider := newRecorder(t)
	u, err := url.Parse(strings.Replace(provider.srv.URL, "http://", "https://", 1))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, query{creds: credentials{token: "t0k"}}.transport(u), provider.srv.URL)
	if got := provider.got(); len(got) != 1 || got[0] != "" {
		t.Errorf("plain http to the host of an https provider got Authorization %q, want none", got)
	}
}

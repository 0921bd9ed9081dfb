package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flotilla-io/flotilla/internal/image/registry"
)

// tagServer stands in for a registry that pages with Link headers, as
// the distribution spec describes (and as Docker Hub, GHCR and Harbor do):
// each page is answered from pages[last], "" being the first. It records
// the query of every tag list request.
type tagServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	queries []string
	// limit, when set, calls stop once that many lists were asked for.
	limit int
	stop  func()
}

// stopAfter calls stop (a context's cancel) at the nth list request, so a
// walk that does not end fails instead of hanging.
func (ts *tagServer) stopAfter(n int, stop func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.limit, ts.stop = n, stop
}

type page struct {
	tags   []string
	link   string
	status int
	body   string
}

func newTagServer(t *testing.T, pages map[string]page) *tagServer {
	t.Helper()
	ts := &tagServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		if r.URL.Path != "/v2/team/app/tags/list" || r.Method != http.MethodGet {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		ts.mu.Lock()
		ts.queries = append(ts.queries, r.URL.RawQuery)
		if ts.limit > 0 && len(ts.queries) >= ts.limit {
			ts.stop()
		}
		ts.mu.Unlock()
		p, ok := pages[r.URL.Query().Get("last")]
		if !ok {
			http.Error(w, "no such page", http.StatusBadRequest)
			return
		}
		if p.link != "" {
			w.Header().Set("Link", strings.ReplaceAll(p.link, "SELF", ts.srv.URL))
		}
		if p.status != 0 {
			w.WriteHeader(p.status)
		}
		if p.body != "" {
			fmt.Fprint(w, p.body)
			return
		}
		fmt.Fprintf(w, `{"name":"team/app","tags":[%s]}`, quoteAll(p.tags))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func quoteAll(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(q, ",")
}

func (ts *tagServer) requests() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.queries...)
}

func (ts *tagServer) host() string { return strings.TrimPrefix(ts.srv.URL, "http://") }

func (ts *tagServer) client(t *testing.T, opts ...registry.Option) *registry.Client {
	t.Helper()
	opts = append([]registry.Option{registry.WithInsecure(true), registry.WithRetry(remote.Backoff{Steps: 1})}, opts...)
	c, err := registry.New(ts.host()+"/team/app", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListTagsFollowsLinkHeaders(t *testing.T) {
	ts := newTagServer(t, map[string]page{
		"":  {tags: []string{"a", "b"}, link: `</v2/team/app/tags/list?n=2&last=b>; rel="next"`},
		"b": {tags: []string{"c", "d"}, link: `<SELF/v2/team/app/tags/list?n=2&last=d>; rel="next"`},
		"d": {tags: []string{"e"}},
	})
	got, err := ts.client(t, registry.WithPageSize(2)).ListTags(context.Background(), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n=2", "n=2&last=b", "n=2&last=d"}, ts.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// A registry may send a prev link with the next one (RFC 8288 allows
// several): following it walked back and forth for ever.
func TestListTagsFollowsNextNotPrev(t *testing.T) {
	ts := newTagServer(t, map[string]page{
		"":  {tags: []string{"a", "b"}, link: `</v2/team/app/tags/list?n=2&last=b>; rel="next"`},
		"b": {tags: []string{"c", "d"}, link: `</v2/team/app/tags/list?n=2>; rel="prev", </v2/team/app/tags/list?n=2&last=d>; rel="next"`},
		"d": {tags: []string{"e"}, link: `</v2/team/app/tags/list?n=2&last=b>; rel="prev"`},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts.stopAfter(10, cancel)
	got, err := ts.client(t, registry.WithPageSize(2)).ListTags(ctx, nil, 100)
	if err != nil {
		t.Fatalf("%v after requests %v", err, ts.requests())
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n=2", "n=2&last=b", "n=2&last=d"}, ts.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestListTagsIgnoresALinkToAnotherHost(t *testing.T) {
	ts := newTagServer(t, map[string]page{
		"": {tags: []string{"a", "b"}, link: `<https://elsewhere.example.com/v2/team/app/tags/list?last=b>; rel="next"`},
	})
	got, err := ts.client(t, registry.WithPageSize(2)).ListTags(context.Background(), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if q := ts.requests(); len(q) != 1 {
		t.Errorf("requests = %v, want the walk to end after the first page", q)
	}
}

func TestListTagsWithoutLinkAsksFromTheLastTag(t *testing.T) {
	ts := newTagServer(t, map[string]page{
		"":  {tags: []string{"1", "2", "3"}},
		"3": {tags: []string{"2", "3", "4", "5", "6"}}, // answers more than asked, some again
		"6": {tags: []string{}},
	})
	got, err := ts.client(t, registry.WithPageSize(3)).ListTags(context.Background(), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n=3", "last=3&n=3", "last=6&n=3"}, ts.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestListTagsKeepCountsOnlyKeptTags(t *testing.T) {
	ts := newTagServer(t, map[string]page{"": {tags: []string{"v1", "v1.sig", "v2", "v2.sig", "v3.sig"}}})
	keep, err := registry.Excluder([]string{`\.sig$`})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ts.client(t).ListTags(context.Background(), keep, 2)
	if err != nil {
		t.Fatalf("2 kept tags with a bound of 2: %v", err)
	}
	if diff := cmp.Diff([]string{"v1", "v2"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	_, err = ts.client(t).ListTags(context.Background(), keep, 1)
	var tm *registry.TooManyTagsError
	if !errors.As(err, &tm) || tm.Count != 2 || tm.Max != 1 || tm.Image != ts.host()+"/team/app" {
		t.Errorf("error = %#v, want 2 tags over a bound of 1", err)
	}
	want := "has 2 tags after the exclusion list, more than maxTags 1: raise spec.maxTags or exclude tags with spec.exclusionList"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("message = %v", err)
	}
}

func TestListTagsRegistryAnswers(t *testing.T) {
	tests := []struct {
		name     string
		page     page
		wantKind error
		wantText string
	}{
		{"server error", page{status: http.StatusInternalServerError, body: `{"errors":[{"code":"UNKNOWN","message":"disk\nfull"}]}`}, registry.ErrRegistry, "disk full"},
		{"repository unknown", page{status: http.StatusNotFound, body: `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}`}, registry.ErrNotFound, "repository name not known"},
		{"denied", page{status: http.StatusForbidden, body: `{"errors":[{"code":"DENIED","message":"no"}]}`}, registry.ErrAuthentication, "DENIED"},
		{"a list that is not JSON", page{body: `<html>proxy login</html>`}, registry.ErrUnreachable, "the tag list does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTagServer(t, map[string]page{"": tt.page})
			_, err := ts.client(t).ListTags(context.Background(), nil, 10)
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("error = %v, want kind %v", err, tt.wantKind)
			}
			if !strings.Contains(err.Error(), tt.wantText) || !strings.HasPrefix(err.Error(), "list tags of "+ts.host()+"/team/app at registry "+ts.host()) {
				t.Errorf("message = %q, want the operation, image, registry and %q", err, tt.wantText)
			}
		})
	}
}

func TestListTagsHonoursCancellation(t *testing.T) {
	ts := newTagServer(t, map[string]page{"": {tags: []string{"a"}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ts.client(t).ListTags(ctx, nil, 10)
	if err == nil {
		t.Fatal("a cancelled list succeeded")
	}
	var re *registry.Error
	if !errors.As(err, &re) || !errors.Is(err, registry.ErrUnreachable) {
		t.Fatalf("error = %T %v, want a *registry.Error of kind ErrUnreachable", err, err)
	}
}

const manifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
	`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}`

// A registry that refuses HEAD on manifests (some proxies do) is asked
// with GET, and the digest is that of the manifest's bytes.
func TestDigestFallsBackToGet(t *testing.T) {
	var methods []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		if r.URL.Path != "/v2/team/app/manifests/v1" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		fmt.Fprint(w, manifest)
	}))
	t.Cleanup(srv.Close)
	c, err := registry.New(strings.TrimPrefix(srv.URL, "http://")+"/team/app", registry.WithInsecure(true), registry.WithRetry(remote.Backoff{Steps: 1}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Digest(context.Background(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(manifest))
	if want := "sha256:" + hex.EncodeToString(sum[:]); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{http.MethodHead, http.MethodGet}, methods); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// A refusal of the credentials on HEAD is final: a GET would be refused
// the same way.
func TestDigestDoesNotRetryARefusal(t *testing.T) {
	var gets int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		mu.Lock()
		if r.Method == http.MethodGet {
			gets++
		}
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	c, err := registry.New(strings.TrimPrefix(srv.URL, "http://")+"/team/app", registry.WithInsecure(true), registry.WithRetry(remote.Backoff{Steps: 1}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Digest(context.Background(), "v1")
	if !errors.Is(err, registry.ErrAuthentication) || !strings.HasPrefix(err.Error(), "look up the digest of "+strings.TrimPrefix(srv.URL, "http://")+"/team/app:v1") {
		t.Fatalf("error = %v, want ErrAuthentication naming the tag", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gets != 0 {
		t.Errorf("%d GET requests after HEAD was refused, want none", gets)
	}
}

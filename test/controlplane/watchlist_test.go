package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// request is one list or watch an informer made, in order.
type request struct {
	// kind is "list", "watch" or "watch-list" (a watch with
	// sendInitialEvents=true: client-go's streaming list).
	kind string
	// refusal is the message of the ERROR event a watch-list stream began
	// with, if it began with one.
	refusal string
	// status is the HTTP status of the response.
	status int
}

// recorder is a RoundTripper that records the lists and watches of one
// resource path.
type recorder struct {
	path string
	rt   http.RoundTripper
	mu   sync.Mutex
	reqs []*request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != r.path {
		return r.rt.RoundTrip(req)
	}
	q := req.URL.Query()
	rec := &request{kind: "list"}
	switch {
	case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
		rec.kind = "watch-list"
	case q.Get("watch") == "true":
		rec.kind = "watch"
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	// JSON, so that the sniffer can read a refusal.
	req = req.Clone(req.Context())
	req.Header.Set("Accept", "application/json")
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		rec.status = resp.StatusCode
		r.mu.Unlock()
	}
	if err == nil && rec.kind == "watch-list" {
		resp.Body = &sniffer{ReadCloser: resp.Body, rec: rec, mu: &r.mu}
	}
	return resp, err
}

// before returns the requests recorded so far.
func (r *recorder) before() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]request, len(r.reqs))
	for i, q := range r.reqs {
		out[i] = *q
	}
	return out
}

// sniffer notes the message of an ERROR event at the start of a
// watch-list stream (JSON: the recorder asks for JSON).
type sniffer struct {
	io.ReadCloser
	rec  *request
	mu   *sync.Mutex
	head []byte
}

func (s *sniffer) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	if len(s.head) < 4096 {
		s.head = append(s.head, p[:n]...)
		var ev struct {
			Type   string        `json:"type"`
			Object metav1.Status `json:"object"`
		}
		if json.NewDecoder(bytes.NewReader(s.head)).Decode(&ev) == nil && ev.Type == "ERROR" {
			s.mu.Lock()
			s.rec.refusal = ev.Object.Message
			s.mu.Unlock()
		}
	}
	return n, err
}

// TestQuietInformerSyncsWithoutStall starts informers as the agent's are
// made (client-go's default WatchListClient gate: a streaming list first)
// on kinds nobody writes, and checks from the requests they make that each
// synced either by a streaming list alone or, when kube-apiserver refuses
// streaming lists at once, by exactly one LIST after the refusal: never by
// a streaming list left waiting for a bookmark and retried. The test
// ground's etcd (3.4.23, from Debian) lacks the progress requests that
// kube-apiserver needs to serve streaming lists, so here the second way is
// expected; the test passes with a newer etcd too.
func TestQuietInformerSyncsWithoutStall(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts etcd and kube-apiserver (run `make test`)")
	}
	env, err := Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace %s: %v", ns.Name, err)
	}
	for _, tc := range []struct {
		name      string
		gvr       schema.GroupVersionResource
		namespace string
		path      string
	}{
		{"built-in kind in a namespace", corev1.SchemeGroupVersion.WithResource("podtemplates"), "quiet", "/api/v1/namespaces/quiet/podtemplates"},
		{"Flotilla's CRD cluster-wide", v1alpha1.GroupVersion.WithResource("stacks"), "", "/apis/flotilla.io/v1alpha1/stacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reqs := syncInformer(ctx, t, env.Config, tc.gvr, tc.namespace, tc.path)
			checkSyncRequests(t, reqs)
		})
	}
}

// syncInformer runs a metadata-only informer (as internal/drift's) on gvr
// in namespace until it has synced, and returns the requests it made on
// path until then.
func syncInformer(ctx context.Context, t *testing.T, cfg *rest.Config, gvr schema.GroupVersionResource, namespace, path string) []request {
	t.Helper()
	rec := &recorder{path: path}
	cfg = rest.CopyConfig(cfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { rec.rt = rt; return rec }
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inf := metadatainformer.NewFilteredMetadataInformer(md, gvr, namespace, 0, cache.Indexers{}, nil).Informer()
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	err = wait.PollUntilContextCancel(ctx, time.Millisecond, true, func(context.Context) (bool, error) {
		return inf.HasSynced(), nil
	})
	if err != nil {
		t.Fatalf("informer on %s never synced; requests: %+v", gvr, rec.before())
	}
	return rec.before()
}

// checkSyncRequests checks that an informer synced by a streaming list
// alone, by one LIST after a streaming list refused at once, or (with the
// WatchListClient gate off) by one LIST. Answers 429 are left out: a
// just-installed CRD's watch cache answers so while it initializes, and
// client-go retries. So is the plain watch after the initial list.
func checkSyncRequests(t *testing.T, reqs []request) {
	t.Helper()
	var kinds []string
	var refusal string
	for _, r := range reqs {
		if r.kind == "watch" {
			break
		}
		if r.status == http.StatusTooManyRequests {
			continue
		}
		kinds = append(kinds, r.kind)
		refusal += r.refusal
	}
	switch got := strings.Join(kinds, ","); got {
	case "watch-list":
		if refusal != "" {
			t.Errorf("streaming list refused (%s) and no LIST followed", refusal)
		}
		t.Logf("synced by a streaming list")
	case "watch-list,list":
		if refusal == "" {
			t.Errorf("streaming list ended without an ERROR event before the fallback LIST: it stalled, not refused")
		}
		t.Logf("streaming list refused at once (%s); synced by one LIST", refusal)
	case "list":
		t.Logf("synced by one LIST (WatchListClient off)")
	default:
		t.Errorf("requests until the initial list: %s (%+v), want watch-list, watch-list,list or list (one attempt each, no retry)", got, reqs)
	}
}

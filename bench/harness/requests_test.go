package harness

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, method, url string
		want              Verb
	}{
		{name: "get-namespaced-object", method: "GET", url: "/api/v1/namespaces/ns/configmaps/cm", want: Get},
		{name: "get-namespace-itself", method: "GET", url: "/api/v1/namespaces/ns", want: Get},
		{name: "get-status-subresource", method: "GET", url: "/apis/flotilla.io/v1alpha1/namespaces/ns/stacks/app/status", want: Get},
		{name: "get-discovery", method: "GET", url: "/apis/apps/v1", want: Get},
		{name: "list-namespaced-collection", method: "GET", url: "/api/v1/namespaces/ns/configmaps?labelSelector=a", want: List},
		{name: "list-all-namespaces", method: "GET", url: "/api/v1/configmaps", want: List},
		{name: "list-namespaces", method: "GET", url: "/api/v1/namespaces", want: List},
		{name: "list-group-collection", method: "GET", url: "/apis/flotilla.io/v1alpha1/stacks", want: List},
		{name: "watch-parameter", method: "GET", url: "/api/v1/configmaps?watch=true&resourceVersion=5", want: Watch},
		{name: "watch-legacy-path", method: "GET", url: "/api/v1/watch/namespaces/ns/configmaps", want: Watch},
		{name: "server-side-apply", method: "PATCH", url: "/api/v1/namespaces/ns/configmaps/cm?fieldManager=flotilla&force=true", want: Patch},
		{name: "dry-run-apply", method: "PATCH", url: "/api/v1/namespaces/ns/configmaps/cm?dryRun=All&fieldManager=flotilla", want: DryRun},
		{name: "dry-run-delete", method: "DELETE", url: "/api/v1/namespaces/ns/configmaps/cm?dryRun=All", want: DryRun},
		{name: "create", method: "POST", url: "/apis/events.k8s.io/v1/namespaces/ns/events", want: Post},
		{name: "update", method: "PUT", url: "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l", want: Put},
		{name: "delete", method: "DELETE", url: "/api/v1/namespaces/ns/configmaps/cm", want: Delete},
		{name: "unusual-method", method: "HEAD", url: "/api/v1", want: Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://127.0.0.1:6443"+tt.url, nil)
			if got := Classify(req); got != tt.want {
				t.Errorf("Classify(%s %s) = %s, want %s", tt.method, tt.url, got, tt.want)
			}
		})
	}
}

func TestCountsSubReadsWrites(t *testing.T) {
	before := Counts{Get: 2, List: 1, Patch: 5}
	after := Counts{Get: 3, List: 1, Watch: 2, Patch: 9, Post: 1, DryRun: 4}
	got := after.Sub(before)
	want := Counts{Get: 1, Watch: 2, Patch: 4, Post: 1, DryRun: 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sub (-want +got):\n%s", diff)
	}
	if got.Reads() != 3 || got.Writes() != 5 {
		t.Errorf("Reads, Writes = %d, %d; want 3, 5 (dry-runs are neither)", got.Reads(), got.Writes())
	}
}

func TestCounterCountsAndTracksInFlight(t *testing.T) {
	now := time.Unix(1000, 0)
	c := &Counter{now: func() time.Time { return now }}
	release := make(chan struct{})
	entered := make(chan struct{})
	rt := c.Wrap(roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPatch {
			close(entered)
			<-release
		}
		return &http.Response{StatusCode: 200}, nil
	}))
	send := func(method, url string) {
		if _, err := rt.RoundTrip(httptest.NewRequest(method, url, nil)); err != nil {
			t.Error(err)
		}
	}
	send("GET", "/api/v1/namespaces/ns/configmaps")
	send("GET", "/api/v1/namespaces/ns/configmaps/cm")
	done := make(chan struct{})
	go func() { defer close(done); send("PATCH", "/api/v1/namespaces/ns/configmaps/cm") }()
	<-entered
	now = now.Add(time.Second)
	if c.Quiet(100 * time.Millisecond) {
		t.Error("Quiet with a request in flight")
	}
	close(release)
	<-done
	if c.Quiet(100 * time.Millisecond) {
		t.Error("Quiet right after a request ended")
	}
	now = now.Add(100 * time.Millisecond)
	if !c.Quiet(100 * time.Millisecond) {
		t.Error("not Quiet 100ms after the last request")
	}
	if diff := cmp.Diff(Counts{List: 1, Get: 1, Patch: 1}, c.Snapshot()); diff != "" {
		t.Errorf("Snapshot (-want +got):\n%s", diff)
	}
}

func TestZeroCounterIsQuietAndEmpty(t *testing.T) {
	var c Counter
	if !c.Quiet(time.Millisecond) || len(c.Snapshot()) != 0 {
		t.Error("a Counter that saw nothing must be quiet and empty")
	}
}

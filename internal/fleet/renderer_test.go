package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/render"
)

// snapshotFiles is a snapshot of files, path -> content.
func snapshotFiles(files map[string]string) *Snapshot {
	s := newSnapshot("test")
	for p, c := range files {
		s.add(p, filemode.Regular, plumbing.ComputeHash(plumbing.BlobObject, []byte(c)), []byte(c))
	}
	s.index()
	return s
}

// templatedApp is a base whose ConfigMap takes ${NAME} in a value.
var templatedApp = map[string]string{
	"app/kustomization.yaml": "resources:\n- config.yaml\n",
	"app/config.yaml":        "apiVersion: example.com/v1\nkind: Settings\nmetadata: {name: app, namespace: default}\ndata:\n  name: cluster-${NAME}\n  count: ${COUNT:=1}\n",
	"other/file.yaml":        "not read by app\n",
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetKind()+"/"+u.GetName())
	}
	return out
}

func TestRendererOnceRunsOncePerKey(t *testing.T) {
	r := newRenderer(t.TempDir())
	started, release := make(chan struct{}), make(chan struct{})
	want := []*unstructured.Unstructured{obj(t, cmA)}
	var runs atomic.Int32
	run := func() ([]*unstructured.Unstructured, error) {
		runs.Add(1)
		close(started)
		<-release
		return want, nil
	}
	var wg sync.WaitGroup
	var first, waiter []*unstructured.Unstructured
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, _ = r.once(t.Context(), "k", &r.reused, run)
	}()
	<-started // the answer for k is being computed

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.once(cancelled, "k", &r.reused, run); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context is done got %v, want context.Canceled", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		waiter, _ = r.once(t.Context(), "k", &r.reused, run)
	}()
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("run ran %d times for one key", runs.Load())
	}
	if len(first) != 1 || len(waiter) != 1 || first[0] != want[0] || waiter[0] != want[0] {
		t.Errorf("answers %v and %v, want the one run's objects", first, waiter)
	}
	if got := r.reused.Load(); got != 2 {
		t.Errorf("reused = %d, want the two waiters", got)
	}
}

func TestRendererOnceCachesErrorsAndCountsOnlyWhenAsked(t *testing.T) {
	r := newRenderer(t.TempDir())
	boom := errors.New("boom")
	var runs int
	run := func() ([]*unstructured.Unstructured, error) { runs++; return nil, boom }
	for range 3 {
		if _, err := r.once(t.Context(), "k", nil, run); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the run's", err)
		}
	}
	if runs != 1 || r.reused.Load() != 0 {
		t.Errorf("runs %d, reused %d: want one run, and no count without a counter", runs, r.reused.Load())
	}
}

func TestInputsOfIsFoundOncePerSnapshotAndPath(t *testing.T) {
	s := snapshotFiles(templatedApp)
	r := newRenderer(t.TempDir())
	a := r.inputsOf(s, "app")
	if diff := cmp.Diff([]string{"app/config.yaml", "app/kustomization.yaml"}, a.files); diff != "" || !a.exact {
		t.Errorf("inputs of app (-want +got), exact %v:\n%s", a.exact, diff)
	}
	s.files["app/config.yaml"] = fileEntry{data: []byte("changed after the plan read it")}
	if b := r.inputsOf(s, "app"); b.digest != a.digest {
		t.Error("the inputs of one path of one snapshot were computed twice")
	}
	outside := r.inputsOf(s, "../elsewhere")
	if outside.exact || len(outside.files) != len(s.paths) {
		t.Errorf("a path outside the fleet: %d of %d files, exact %v; want the whole tree", len(outside.files), len(s.paths), outside.exact)
	}
}

func TestRendererCountsBuildsReusesAndSubstitutions(t *testing.T) {
	s := snapshotFiles(templatedApp)
	r := newRenderer(t.TempDir())
	render1 := func(vars map[string]string) []*unstructured.Unstructured {
		t.Helper()
		objs, err := r.render(t.Context(), r.prepare(s, render.Options{Path: "app", Substitute: vars}))
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	prod := render1(map[string]string{"NAME": "prod"})
	render1(map[string]string{"NAME": "prod"})
	dev := render1(map[string]string{"NAME": "dev"})
	got := []int64{r.builds.Load(), r.reused.Load(), r.substituted.Load()}
	// One build of the shared render; prod and dev made from it; prod again from the cache.
	if diff := cmp.Diff([]int64{1, 1, 2}, got); diff != "" {
		t.Errorf("builds, reused, substituted (-want +got):\n%s", diff)
	}
	for want, objs := range map[string][]*unstructured.Unstructured{"cluster-prod": prod, "cluster-dev": dev} {
		if v, _, _ := unstructured.NestedString(objs[0].Object, "data", "name"); v != want {
			t.Errorf("data.name = %q, want %q", v, want)
		}
	}
	// A count typed as a number cannot be made from the shared render.
	objs := render1(map[string]string{"NAME": "x", "COUNT": "3"})
	if v, _, _ := unstructured.NestedInt64(objs[0].Object, "data", "count"); v != 3 {
		t.Errorf("data.count = %v, want the number 3", objs[0].Object["data"])
	}
	if got := r.builds.Load(); got != 3 {
		t.Errorf("builds = %d, want 3: a new shared render for COUNT, refused, then its own", got)
	}
}

func TestExhaustiveRendererNeverCaches(t *testing.T) {
	s := snapshotFiles(templatedApp)
	r := newRenderer(t.TempDir())
	r.exhaustive = true
	j := r.prepare(s, render.Options{Path: "app", Substitute: map[string]string{"NAME": "a"}})
	for range 2 {
		if _, err := r.render(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if got := []int64{r.builds.Load(), r.reused.Load(), r.substituted.Load()}; !cmp.Equal(got, []int64{2, 0, 0}) {
		t.Errorf("builds, reused, substituted = %v, want every render built", got)
	}
}

// A closure that misses a file makes the render from the inputs fail; the
// whole tree's answer is the one the agent would get, so it is returned.
func TestBuildFallsBackToTheWholeTree(t *testing.T) {
	s := snapshotFiles(templatedApp)
	r := newRenderer(t.TempDir())
	j := r.prepare(s, render.Options{Path: "app", Substitute: map[string]string{"NAME": "a"}})
	j.files = []string{"app/kustomization.yaml"} // config.yaml missed
	objs, err := r.build(t.Context(), j)
	if err != nil {
		t.Fatalf("the whole tree renders, yet: %v", err)
	}
	if diff := cmp.Diff([]string{"Settings/app"}, names(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}

	broken := snapshotFiles(map[string]string{"app/kustomization.yaml": "resources:\n- missing.yaml\n"})
	_, err = r.build(t.Context(), r.prepare(broken, render.Options{Path: "app"}))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("err = %v, want the whole tree's error naming missing.yaml", err)
	}
}

func TestBuildStopsWithItsContext(t *testing.T) {
	s := snapshotFiles(templatedApp)
	r := newRenderer(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.build(ctx, r.prepare(s, render.Options{Path: "app"})); !errors.Is(err, context.Canceled) {
		t.Errorf("build with a cancelled context: %v, want context.Canceled", err)
	}
}

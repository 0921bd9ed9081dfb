package drift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

const self = "flotilla"

// entry is a managed-fields entry of manager, operation op, at minute min
// (nil time when min < 0), owning fields (FieldsV1 JSON; none when empty).
func entry(manager string, op metav1.ManagedFieldsOperationType, min int, fields string) metav1.ManagedFieldsEntry {
	e := metav1.ManagedFieldsEntry{Manager: manager, Operation: op}
	if min >= 0 {
		at := metav1.NewTime(time.Date(2026, 1, 1, 0, min, 0, 0, time.UTC))
		e.Time = &at
	}
	if fields != "" {
		e.FieldsV1 = metav1.NewFieldsV1(fields)
	}
	return e
}

// set parses FieldsV1 JSON into a field set.
func set(t *testing.T, fields string) *fieldpath.Set {
	t.Helper()
	s := &fieldpath.Set{}
	if err := s.FromJSON(bytes.NewReader([]byte(fields))); err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	dataAB   = `{"f:data":{"f:a":{},"f:b":{}}}`
	dataA    = `{"f:data":{"f:a":{}}}`
	dataB    = `{"f:data":{"f:b":{}}}`
	replicas = `{"f:spec":{"f:replicas":{}}}`
)

func TestOwnedBy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    []string
	}{
		{"no entries own nothing", nil, nil},
		{"an apply entry of self", []metav1.ManagedFieldsEntry{entry(self, metav1.ManagedFieldsOperationApply, 0, dataAB)},
			[]string{".data.a", ".data.b"}},
		{"an update entry of self does not count", []metav1.ManagedFieldsEntry{entry(self, metav1.ManagedFieldsOperationUpdate, 0, dataAB)}, nil},
		{"another manager's apply does not count", []metav1.ManagedFieldsEntry{entry("kubectl", metav1.ManagedFieldsOperationApply, 0, dataAB)}, nil},
		{"two apply entries of self are united", []metav1.ManagedFieldsEntry{
			entry(self, metav1.ManagedFieldsOperationApply, 0, dataA),
			entry(self, metav1.ManagedFieldsOperationApply, 1, replicas),
		}, []string{".data.a", ".spec.replicas"}},
		{"an entry without fields is skipped", []metav1.ManagedFieldsEntry{entry(self, metav1.ManagedFieldsOperationApply, 0, "")}, nil},
		{"an entry with broken JSON is skipped, the others kept", []metav1.ManagedFieldsEntry{
			entry(self, metav1.ManagedFieldsOperationApply, 0, `{"f:data":`),
			entry(self, metav1.ManagedFieldsOperationApply, 1, dataB),
		}, []string{".data.b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := paths(ownedBy(tc.entries, self))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("owned leaves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTakers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		lost    string
		want    []string
	}{
		{"the manager that owns a lost field", []metav1.ManagedFieldsEntry{
			entry(self, metav1.ManagedFieldsOperationApply, 0, dataB),
			entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
		}, dataA, []string{"kubectl-edit"}},
		{"several managers, sorted and once each", []metav1.ManagedFieldsEntry{
			entry("zeta", metav1.ManagedFieldsOperationUpdate, 1, dataA),
			entry("alpha", metav1.ManagedFieldsOperationApply, 2, dataB),
			entry("zeta", metav1.ManagedFieldsOperationApply, 3, dataB),
		}, dataAB, []string{"alpha", "zeta"}},
		{"a manager owning other fields only is not a taker", []metav1.ManagedFieldsEntry{
			entry("hpa", metav1.ManagedFieldsOperationUpdate, 5, replicas),
			entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
		}, dataA, []string{"kubectl-edit"}},
		{"a removed field falls back to the latest other manager", []metav1.ManagedFieldsEntry{
			entry(self, metav1.ManagedFieldsOperationApply, 9, dataB),
			entry("old", metav1.ManagedFieldsOperationUpdate, 1, replicas),
			entry("recent", metav1.ManagedFieldsOperationUpdate, 4, replicas),
		}, dataA, []string{"recent"}},
		{"self alone: nobody to name", []metav1.ManagedFieldsEntry{
			entry(self, metav1.ManagedFieldsOperationApply, 0, dataB),
		}, dataA, nil},
		{"entries without a time are not a fallback", []metav1.ManagedFieldsEntry{
			entry("timeless", metav1.ManagedFieldsOperationUpdate, -1, replicas),
		}, dataA, nil},
		{"a broken entry is skipped", []metav1.ManagedFieldsEntry{
			entry("broken", metav1.ManagedFieldsOperationUpdate, -1, `{`),
			entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
		}, dataA, []string{"kubectl-edit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := takers(tc.entries, self, set(t, tc.lost))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("takers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathsAreSortedAndCapped(t *testing.T) {
	var fields []string
	for i := 11; i >= 0; i-- {
		fields = append(fields, fmt.Sprintf(`"f:k%02d":{}`, i))
	}
	got := paths(set(t, `{"f:data":{`+strings.Join(fields, ",")+`}}`))
	want := []string{".data.k00", ".data.k01", ".data.k02", ".data.k03", ".data.k04",
		".data.k05", ".data.k06", ".data.k07", ".data.k08", ".data.k09", "..."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if got := paths(&fieldpath.Set{}); len(got) != 0 {
		t.Errorf("paths of an empty set = %q, want none", got)
	}
}

func TestKeys(t *testing.T) {
	deploy := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ns := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for _, tc := range []struct {
		name       string
		got, want  string
		normalized string
	}{
		{"a namespaced object", key(deploy, "team-a", "web"), "apps/v1/deployments|team-a/web", "apps/v1/deployments|team-a/web"},
		{"a cluster-scoped object", key(ns, "", "team-a"), "/v1/namespaces|/team-a", "/v1/namespaces|/team-a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("key = %q, want %q", tc.got, tc.want)
			}
			if n := normalizeKey(tc.got); n != tc.normalized {
				t.Errorf("normalizeKey(%q) = %q, want %q", tc.got, n, tc.normalized)
			}
		})
	}
	// The informers' queue keys are "gvr|ns/name" or "gvr|name" (cache's
	// key function); both must meet the tracked keys.
	if got := normalizeKey("/v1/namespaces|team-a"); got != key(ns, "", "team-a") {
		t.Errorf("a cluster-scoped queue key normalizes to %q, want %q", got, key(ns, "", "team-a"))
	}
	if got := normalizeKey("apps/v1/deployments|team-a/web"); got != key(deploy, "team-a", "web") {
		t.Errorf("a namespaced queue key normalizes to %q", got)
	}
}

func TestInformerKeyString(t *testing.T) {
	k := informerKey{identity: "system:serviceaccount:a:b", gvr: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, namespace: "a"}
	if got, want := k.String(), "system:serviceaccount:a:b|apps/v1/deployments|a"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestKindName(t *testing.T) {
	for gvk, want := range map[schema.GroupVersionKind]string{
		{Version: "v1", Kind: "ConfigMap"}:                 "ConfigMap",
		{Group: "apps", Version: "v1", Kind: "Deployment"}: "Deployment.apps",
	} {
		if got := kindName(gvk); got != want {
			t.Errorf("kindName(%v) = %q, want %q", gvk, got, want)
		}
	}
}

func TestSortedKeys(t *testing.T) {
	if diff := cmp.Diff([]string{"a", "b", "c"}, sortedKeys(map[string]bool{"c": true, "a": true, "b": false})); diff != "" {
		t.Errorf("sortedKeys (-want +got):\n%s", diff)
	}
	if got := sortedKeys(nil); got == nil || len(got) != 0 {
		t.Errorf("sortedKeys(nil) = %#v, want an empty slice", got)
	}
}

// testMapper knows ConfigMaps (namespaced) and Namespaces (cluster-scoped).
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	return m
}

func object(kind, ns, name string, managed ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetManagedFields(managed)
	return u
}

func TestTargetsIndexesByResourceKey(t *testing.T) {
	w := New(nil, testMapper(), nil, nil, Options{FieldManager: self})
	got, err := w.targets([]Target{
		{Desired: object("ConfigMap", "team-a", "settings"), Result: object("ConfigMap", "team-a", "settings", entry(self, metav1.ManagedFieldsOperationApply, 0, dataA))},
		{Desired: object("Namespace", "", "team-a")},
	})
	if err != nil {
		t.Fatal(err)
	}
	cm, ns := got["/v1/configmaps|team-a/settings"], got["/v1/namespaces|/team-a"]
	if cm == nil || ns == nil || len(got) != 2 {
		t.Fatalf("targets = %v, want the ConfigMap and the Namespace by resource key", got)
	}
	if !cm.namespaced || ns.namespaced {
		t.Errorf("namespaced: ConfigMap %v, Namespace %v; want true, false", cm.namespaced, ns.namespaced)
	}
	if diff := cmp.Diff([]string{".data.a"}, paths(cm.owned)); diff != "" {
		t.Errorf("owned of the ConfigMap (-want +got):\n%s", diff)
	}
	if !ns.owned.Empty() {
		t.Errorf("a target without a result owns %v, want nothing", paths(ns.owned))
	}

	needs := needsOf(got)
	cmNeed := needs[schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}]
	nsNeed := needs[schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}]
	if cmNeed == nil || !cmNeed.namespaces["team-a"] || nsNeed == nil || len(nsNeed.namespaces) != 0 {
		t.Errorf("needs = ConfigMaps %+v, Namespaces %+v", cmNeed, nsNeed)
	}
}

func TestTargetsOfAnUnknownKindNameTheObject(t *testing.T) {
	w := New(nil, testMapper(), nil, nil, Options{})
	u := object("Widget", "team-a", "w1")
	u.SetAPIVersion("example.com/v1")
	_, err := w.targets([]Target{{Desired: u}})
	if err == nil || !strings.Contains(err.Error(), "watching Widget/team-a/w1") || !meta.IsNoMatchError(err) {
		t.Fatalf("err = %v, want a wrapped no-match error naming Widget/team-a/w1", err)
	}
}

func TestNewDefaults(t *testing.T) {
	w := New(nil, testMapper(), nil, nil, Options{})
	if w.opts.Workers != 2 || w.opts.FieldManager != apply.DefaultOptions().FieldManager {
		t.Errorf("defaults = %+v", w.opts)
	}
	if !w.NeedLeaderElection() {
		t.Error("the drift watcher corrects objects: it must run on the leader only")
	}
	if w.Synced(types.NamespacedName{Name: "unknown"}) {
		t.Error("an untracked Stack is Synced")
	}
}

// recorder is a Sink that keeps the records.
type recorder struct {
	mu      sync.Mutex
	records []Record
}

func (r *recorder) Drifted(_ context.Context, rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.Time = time.Time{}
	r.records = append(r.records, rec)
}

// correction is a Corrector that answers with result and err, counting
// calls.
type correction struct {
	calls  int
	result *unstructured.Unstructured
	err    error
}

func (c *correction) correct(_ context.Context, _ types.NamespacedName, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	c.calls++
	return c.result, c.err
}

func TestUpdated(t *testing.T) {
	stack := types.NamespacedName{Namespace: "team-a", Name: "apps"}
	cm := apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings"}
	afterApply := []metav1.ManagedFieldsEntry{entry(self, metav1.ManagedFieldsOperationApply, 0, dataAB)}
	edited := []metav1.ManagedFieldsEntry{
		entry(self, metav1.ManagedFieldsOperationApply, 0, dataB),
		entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
	}
	for _, tc := range []struct {
		name        string
		policy      v1alpha1.DriftPolicy
		live        []metav1.ManagedFieldsEntry
		annotations map[string]string
		correctErr  error
		want        []Record
		wantCalls   int
	}{
		{"nothing lost, nothing recorded", v1alpha1.DriftCorrect, afterApply, nil, nil, nil, 0},
		{"a lost field is corrected", v1alpha1.DriftCorrect, edited, nil, nil,
			[]Record{{Stack: stack, Object: cm, Fields: []string{".data.a"}, Manager: "kubectl-edit", Action: Corrected}}, 1},
		{"a failed correction carries its error", v1alpha1.DriftCorrect, edited, nil, errors.New("conflict"),
			[]Record{{Stack: stack, Object: cm, Fields: []string{".data.a"}, Manager: "kubectl-edit", Action: Corrected, Err: errors.New("conflict")}}, 1},
		{"report reports without applying", v1alpha1.DriftReport, edited, nil, nil,
			[]Record{{Stack: stack, Object: cm, Fields: []string{".data.a"}, Manager: "kubectl-edit", Action: Reported}}, 0},
		{"the ignore annotation silences it", v1alpha1.DriftCorrect, edited, map[string]string{v1alpha1.DriftIgnoreAnnotation: "ignore"}, nil, nil, 0},
		{"another annotation value does not", v1alpha1.DriftReport, edited, map[string]string{v1alpha1.DriftIgnoreAnnotation: "no"}, nil,
			[]Record{{Stack: stack, Object: cm, Fields: []string{".data.a"}, Manager: "kubectl-edit", Action: Reported}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recorder{}
			fix := &correction{result: object("ConfigMap", "team-a", "settings", afterApply...), err: tc.correctErr}
			w := New(nil, testMapper(), fix.correct, sink, Options{FieldManager: self})
			tg := &target{meta: cm, desired: object("ConfigMap", "team-a", "settings"), owned: ownedBy(afterApply, self)}
			live := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ManagedFields: tc.live, Annotations: tc.annotations}}
			w.updated(context.Background(), stack, tc.policy, tg, live)
			if diff := cmp.Diff(tc.want, sink.records, cmp.Comparer(sameError)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if fix.calls != tc.wantCalls {
				t.Errorf("corrections = %d, want %d", fix.calls, tc.wantCalls)
			}
		})
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

func TestUpdatedReportsADriftOnceUnderReport(t *testing.T) {
	sink := &recorder{}
	w := New(nil, testMapper(), nil, sink, Options{FieldManager: self})
	tg := &target{meta: apply.ObjMetadata{Kind: "ConfigMap"}, owned: set(t, dataAB)}
	live := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		entry(self, metav1.ManagedFieldsOperationApply, 0, dataB),
		entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
	}}}
	for range 3 {
		w.updated(context.Background(), types.NamespacedName{Name: "s"}, v1alpha1.DriftReport, tg, live)
	}
	if len(sink.records) != 1 {
		t.Errorf("the same drift was reported %d times, want once", len(sink.records))
	}
}

func TestUpdatedCorrectionRefreshesOwnedFields(t *testing.T) {
	sink := &recorder{}
	fix := &correction{result: object("ConfigMap", "a", "b", entry(self, metav1.ManagedFieldsOperationApply, 0, dataAB))}
	w := New(nil, testMapper(), fix.correct, sink, Options{FieldManager: self})
	tg := &target{meta: apply.ObjMetadata{Kind: "ConfigMap"}, desired: object("ConfigMap", "a", "b"), owned: set(t, dataA)}
	live := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, 1, dataA),
	}}}
	w.updated(context.Background(), types.NamespacedName{Name: "s"}, v1alpha1.DriftCorrect, tg, live)
	if diff := cmp.Diff([]string{".data.a", ".data.b"}, paths(tg.owned)); diff != "" {
		t.Errorf("owned after the correction (-want +got):\n%s", diff)
	}
}

func TestDeleted(t *testing.T) {
	stack := types.NamespacedName{Namespace: "team-a", Name: "apps"}
	cm := apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings"}
	for _, tc := range []struct {
		name      string
		policy    v1alpha1.DriftPolicy
		want      Action
		wantCalls int
	}{
		{"correct recreates", v1alpha1.DriftCorrect, Recreated, 1},
		{"report reports", v1alpha1.DriftReport, Reported, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recorder{}
			fix := &correction{result: object("ConfigMap", "team-a", "settings")}
			w := New(nil, testMapper(), fix.correct, sink, Options{FieldManager: self})
			w.deleted(context.Background(), stack, tc.policy, &target{meta: cm, desired: object("ConfigMap", "team-a", "settings"), owned: &fieldpath.Set{}})
			want := []Record{{Stack: stack, Object: cm, Fields: []string{"(object deleted)"}, Action: tc.want}}
			if diff := cmp.Diff(want, sink.records, cmp.Comparer(sameError)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if fix.calls != tc.wantCalls {
				t.Errorf("corrections = %d, want %d", fix.calls, tc.wantCalls)
			}
		})
	}
}

// reviews answers SelfSubjectAccessReviews: allowed[namespace|verb], or an
// error for every review when err is set.
func reviews(allowed map[string]bool, err error) *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if err != nil {
			return true, nil, err
		}
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		ra := r.Spec.ResourceAttributes
		r.Status.Allowed = allowed[ra.Namespace+"|"+ra.Verb]
		return true, r, nil
	})
	return cs
}

func TestScope(t *testing.T) {
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	nss := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	cmNeed := &need{kind: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, gvr: cms, namespaced: true, namespaces: map[string]bool{"b": true, "a": true, "c": true}}
	nsNeed := &need{kind: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, gvr: nss, namespaces: map[string]bool{}}
	const id = "system:serviceaccount:a:deployer"
	for _, tc := range []struct {
		name     string
		need     *need
		allowed  map[string]bool
		err      error
		wantKeys []string
		wantErrs []string
	}{
		{"cluster-wide when allowed", cmNeed, map[string]bool{"|list": true, "|watch": true}, nil,
			[]string{id + "|/v1/configmaps|"}, nil},
		{"per namespace, in order, when only namespaces are allowed", cmNeed,
			map[string]bool{"a|list": true, "a|watch": true, "c|list": true, "c|watch": true}, nil,
			[]string{id + "|/v1/configmaps|a", id + "|/v1/configmaps|c"},
			[]string{"cannot watch ConfigMap in namespace b as " + id + ": list and watch are forbidden"}},
		{"list without watch is not enough", cmNeed, map[string]bool{"|list": true, "a|list": true, "b|list": true, "c|list": true}, nil, nil,
			[]string{
				"cannot watch ConfigMap in namespace a as " + id + ": list and watch are forbidden",
				"cannot watch ConfigMap in namespace b as " + id + ": list and watch are forbidden",
				"cannot watch ConfigMap in namespace c as " + id + ": list and watch are forbidden",
			}},
		{"a cluster-scoped kind has no namespaces to fall back to", nsNeed, map[string]bool{}, nil, nil,
			[]string{"cannot watch Namespace cluster-wide as " + id + ": list and watch are forbidden"}},
		{"a failed review is reported", cmNeed, nil, errors.New("the server is unavailable"), nil,
			[]string{"cannot watch ConfigMap cluster-wide as " + id + ": the server is unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(nil, testMapper(), nil, nil, Options{})
			w.clients[id] = &clients{access: reviews(tc.allowed, tc.err).AuthorizationV1().SelfSubjectAccessReviews()}
			keys, errs := w.scope(context.Background(), id, tc.need)
			var gotKeys, gotErrs []string
			for _, k := range keys {
				gotKeys = append(gotKeys, k.String())
			}
			for _, err := range errs {
				gotErrs = append(gotErrs, err.Error())
				var we *WatchError
				if !errors.As(err, &we) {
					t.Errorf("%v is not a *WatchError", err)
				}
			}
			if diff := cmp.Diff(tc.wantKeys, gotKeys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantErrs, gotErrs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScopeForbiddenIsErrWatchForbidden(t *testing.T) {
	w := New(nil, testMapper(), nil, nil, Options{})
	w.clients[""] = &clients{access: reviews(nil, nil).AuthorizationV1().SelfSubjectAccessReviews()}
	_, errs := w.scope(context.Background(), "", &need{kind: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, gvr: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}})
	if len(errs) != 1 || !errors.Is(errs[0], ErrWatchForbidden) {
		t.Fatalf("errs = %v, want one ErrWatchForbidden", errs)
	}
}

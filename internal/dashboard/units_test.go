package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func noBehind(string, string) int { return 0 }

func TestStackRowsSortAndReadTheirSource(t *testing.T) {
	mk := func(ns, name, source string) v1alpha1.Stack {
		st := v1alpha1.Stack{}
		st.Namespace, st.Name = ns, name
		st.Spec.SourceRef = v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: source}
		return st
	}
	src := func(ns, name, rev string) v1alpha1.GitRepository {
		g := v1alpha1.GitRepository{}
		g.Namespace, g.Name = ns, name
		if rev != "" {
			g.Status.Artifact = &v1alpha1.Artifact{Revision: rev}
		}
		return g
	}
	rows := stackRows(
		[]v1alpha1.Stack{mk("b", "apps", "fleet"), mk("a", "zeta", "fleet"), mk("a", "alpha", "none"), mk("b", "infra", "empty")},
		[]v1alpha1.GitRepository{src("a", "fleet", "main@sha1:aaa"), src("b", "fleet", "main@sha1:bbb"), src("b", "empty", "")},
		noBehind, t0)
	var got []string
	for _, r := range rows {
		got = append(got, r.Namespace+"/"+r.Name+"="+r.SourceRevision)
	}
	want := []string{"a/alpha=", "a/zeta=main@sha1:aaa", "b/apps=main@sha1:bbb", "b/infra="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestStackRow(t *testing.T) {
	st := &v1alpha1.Stack{}
	st.Namespace, st.Name = "team-a", "apps"
	st.Spec.Suspend = true
	st.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "infra"}, {Name: "crds", Namespace: "ops"}}
	st.Status.LastAppliedRevision = "main@sha1:old"
	st.Status.Inventory = make([]v1alpha1.InventoryEntry, 3)
	st.Status.Drift = []v1alpha1.DriftRecord{
		{Object: "a", Time: metav1.NewTime(t0.Add(-2 * time.Hour))},
		{Object: "b", Time: metav1.NewTime(t0.Add(-30 * time.Minute))},
		{Object: "c", Time: metav1.NewTime(t0.Add(-time.Minute))},
	}
	st.Status.Conditions = []metav1.Condition{
		{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "ApplyFailed", Message: "boom", LastTransitionTime: metav1.NewTime(t0.In(time.FixedZone("x", 3600)))},
		{Type: v1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue},
	}
	var asked [2]string
	behind := func(rev, src string) int { asked = [2]string{rev, src}; return 4 }
	got := stackRow(st, "main@sha1:new", behind, t0)
	lc := t0
	want := StackRow{
		Namespace: "team-a", Name: "apps", Ready: "False", Reason: "ApplyFailed", Message: "boom",
		Reconciling: true, Suspended: true, Revision: "main@sha1:old", SourceRevision: "main@sha1:new",
		Behind: 4, DriftLastHour: 2, LastChange: &lc, Objects: 3, DependsOn: []string{"team-a/infra", "ops/crds"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if asked != [2]string{"main@sha1:old", "main@sha1:new"} {
		t.Errorf("behind was asked %v", asked)
	}
	if got.LastChange.Location() != time.UTC {
		t.Errorf("LastChange is in %v, want UTC", got.LastChange.Location())
	}
}

func TestStackRowWithoutStatusIsUnknown(t *testing.T) {
	got := stackRow(&v1alpha1.Stack{}, "", noBehind, t0)
	if got.Ready != "Unknown" || got.LastChange != nil || got.Reconciling || got.DependsOn != nil {
		t.Errorf("row of a new Stack = %+v", got)
	}
}

func TestDriftSinceIsStrictlyAfter(t *testing.T) {
	records := []v1alpha1.DriftRecord{{Time: metav1.NewTime(t0)}, {Time: metav1.NewTime(t0.Add(time.Second))}}
	if n := driftSince(records, t0); n != 1 {
		t.Errorf("driftSince = %d, want 1 (a record at the boundary is older than an hour)", n)
	}
	if n := driftSince(nil, t0); n != 0 {
		t.Errorf("driftSince(nil) = %d", n)
	}
}

func TestStatusErrorCodes(t *testing.T) {
	gr := schema.GroupResource{Group: "flotilla.io", Resource: "stacks"}
	for _, tc := range []struct {
		name string
		err  error
		code int
		msg  string
	}{
		{"a conflict", apierrors.NewConflict(gr, "apps", errors.New("modified")), http.StatusConflict, `Operation cannot be fulfilled on stacks.flotilla.io "apps": modified`},
		{"an invalid patch", apierrors.NewInvalid(schema.GroupKind{Group: "flotilla.io", Kind: "Stack"}, "apps", nil), http.StatusUnprocessableEntity, `Stack.flotilla.io "apps" is invalid`},
		{"a wrapped forbidden", fmt.Errorf("patching: %w", apierrors.NewForbidden(gr, "apps", errors.New("RBAC"))), http.StatusForbidden, `stacks.flotilla.io "apps" is forbidden: RBAC`},
		{"a server error is a bad gateway", apierrors.NewInternalError(errors.New("etcd")), http.StatusBadGateway, "Internal error occurred: etcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := statusError(tc.err)
			if code != tc.code || msg != tc.msg {
				t.Errorf("statusError = %d %q, want %d %q", code, msg, tc.code, tc.msg)
			}
		})
	}
}

func TestProbeError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), fmt.Sprintf("the API server did not answer /readyz within %s", pingTimeout)},
		{"bad credentials", apierrors.NewUnauthorized("token expired"), "the API server refused the credentials (401)"},
		{"anything else", errors.New("dial tcp: connection refused"), "dial tcp: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := probeError(tc.err); got != tc.want {
				t.Errorf("probeError = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestActionPatch(t *testing.T) {
	at := v1alpha1.ReconcileRequestValue(t0)
	for _, tc := range []struct {
		action string
		want   string
	}{
		{actionReconcile, `{"metadata":{"annotations":{"` + v1alpha1.ReconcileRequestAnnotation + `":"` + at + `"}}}`},
		{actionSuspend, `{"spec":{"suspend":true}}`},
		{actionResume, `{"metadata":{"annotations":{"` + v1alpha1.ReconcileRequestAnnotation + `":"` + at + `"}},"spec":{"suspend":false}}`},
	} {
		t.Run(tc.action, func(t *testing.T) {
			got, err := actionPatch(tc.action, t0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("patch = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := actionPatch("delete", t0); err == nil || err.Error() != `unknown action "delete": use reconcile, suspend or resume` {
		t.Errorf("err = %v", err)
	}
}

func TestRefuseAction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allow   bool
		token   string
		setTok  bool
		want    int
		wantMsg string
	}{
		{"actions off", false, "tok", true, http.StatusForbidden, "actions are off: start the dashboard with --allow-actions to reconcile, suspend or resume"},
		{"no token", true, "", false, http.StatusForbidden, "missing or wrong X-Flotilla-Token header: reload the page"},
		{"a wrong token", true, "other", true, http.StatusForbidden, "missing or wrong X-Flotilla-Token header: reload the page"},
		{"a token prefix", true, "to", true, http.StatusForbidden, "missing or wrong X-Flotilla-Token header: reload the page"},
		{"the page's token", true, "tok", true, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{opts: Options{AllowActions: tc.allow}, token: "tok"}
			r := httptest.NewRequest(http.MethodPost, "/api/clusters/a/stacks/ns/name/reconcile", nil)
			if tc.setTok {
				r.Header.Set(TokenHeader, tc.token)
			}
			code, msg := s.refuseAction(r)
			if code != tc.want || msg != tc.wantMsg {
				t.Errorf("refuseAction = %d %q, want %d %q", code, msg, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestNewTokensAreDistinctAndLong(t *testing.T) {
	a, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newToken()
	if a == b || len(a) < 32 {
		t.Errorf("tokens %q and %q: want distinct tokens of at least 32 characters", a, b)
	}
}

func TestAllowedHost(t *testing.T) {
	s := &Server{}
	for host, want := range map[string]bool{
		"127.0.0.1:9400":    true,
		"localhost:9400":    true,
		"[::1]:9400":        true,
		"localhost":         true,
		"127.0.0.2:80":      true,
		"evil.example:9400": false,
		"10.0.0.1:9400":     false,
		"":                  false,
	} {
		if got := s.allowedHost(host); got != want {
			t.Errorf("without Listen, allowedHost(%q) = %v, want %v", host, got, want)
		}
	}
	s.setHosts("0.0.0.0:9400")
	for host, want := range map[string]bool{
		"0.0.0.0:9400":   true,
		"localhost:9400": true,
		"[::1]:9400":     true,
		"127.0.0.1:9401": false,
		"127.0.0.2:9400": false,
	} {
		if got := s.allowedHost(host); got != want {
			t.Errorf("after Listen on 0.0.0.0:9400, allowedHost(%q) = %v, want %v", host, got, want)
		}
	}
	s.setHosts("192.168.1.5:9400")
	if !s.allowedHost("192.168.1.5:9400") || s.allowedHost("192.168.1.6:9400") {
		t.Error("after Listen on 192.168.1.5, only that host (and loopback names) may be used")
	}
}

func TestDriftOfIsNewestFirstInUTC(t *testing.T) {
	zone := time.FixedZone("x", -7200)
	got := driftOf([]v1alpha1.DriftRecord{
		{Object: "old", Time: metav1.NewTime(t0.Add(-time.Hour))},
		{Object: "new", Time: metav1.NewTime(t0.In(zone)), Fields: []string{".data.a"}, Manager: "kubectl", Action: "corrected"},
		{Object: "tie", Time: metav1.NewTime(t0.Add(-time.Hour))},
	})
	want := []Drift{
		{Object: "new", Fields: []string{".data.a"}, Manager: "kubectl", Action: "corrected", Time: t0},
		{Object: "old", Time: t0.Add(-time.Hour)},
		{Object: "tie", Time: t0.Add(-time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if got := driftOf(nil); got == nil {
		t.Error("driftOf(nil) is null in JSON, want []")
	}
}

func TestUnreadTreeGroupsByNamespaceAndSays(t *testing.T) {
	tree := unreadTree([]v1alpha1.InventoryEntry{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "b", Name: "web"},
		{Version: "v1", Kind: "Namespace", Name: "b"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "b", Name: "cfg"},
		{Version: "v1", Kind: "ConfigMap", Namespace: "a", Name: "z"},
	})
	var got []string
	for _, ns := range tree {
		for _, o := range ns.Objects {
			got = append(got, ns.Namespace+"|"+o.Kind+"/"+o.Name+"|"+o.Health)
			if o.Message != "the cluster is unreachable" {
				t.Errorf("%s message = %q", o.Name, o.Message)
			}
		}
	}
	want := []string{"|Namespace/b|Unknown", "a|ConfigMap/z|Unknown", "b|ConfigMap/cfg|Unknown", "b|Deployment/web|Unknown"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if empty := groupByNamespace(nil); empty == nil || len(empty) != 0 {
		t.Errorf("an empty tree = %#v, want [] in JSON", empty)
	}
}

func TestNodesOfKeepsTheHealthOfEachIndex(t *testing.T) {
	objs := []apply.ObjMetadata{{Kind: "A", Name: "a"}, {Kind: "B", Name: "b"}}
	nodes := nodesOf(objs, func(i int) (string, string) { return fmt.Sprint("h", i), fmt.Sprint("m", i) })
	if nodes[0].Health != "h0" || nodes[1].Message != "m1" || nodes[1].Kind != "B" {
		t.Errorf("nodes = %+v", nodes)
	}
}

func TestEventTime(t *testing.T) {
	ts := func(d time.Duration) metav1.Time { return metav1.NewTime(t0.Add(d)) }
	for _, tc := range []struct {
		name string
		ev   corev1.Event
		want time.Time
	}{
		{"the last timestamp", corev1.Event{LastTimestamp: ts(3), FirstTimestamp: ts(1)}, t0.Add(3)},
		{"the event time of events.k8s.io", corev1.Event{EventTime: metav1.NewMicroTime(t0.Add(2))}, t0.Add(2)},
		{"the first timestamp", corev1.Event{FirstTimestamp: ts(1)}, t0.Add(1)},
		{"the creation time at last", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: ts(5)}}, t0.Add(5)},
		{"a series' last observation wins", corev1.Event{EventTime: metav1.NewMicroTime(t0), Series: &corev1.EventSeries{LastObservedTime: metav1.NewMicroTime(t0.Add(9))}}, t0.Add(9)},
		{"an empty series keeps the rest", corev1.Event{LastTimestamp: ts(4), Series: &corev1.EventSeries{}}, t0.Add(4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := eventTime(tc.ev)
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("eventTime = %v, want %v in UTC", got, tc.want)
			}
		})
	}
}

func TestReadyOf(t *testing.T) {
	if s, m := readyOf(nil); s != "Unknown" || m != "" {
		t.Errorf("readyOf(nil) = %q %q", s, m)
	}
	s, m := readyOf([]metav1.Condition{{Type: "Other", Status: "True"}, {Type: v1alpha1.ReadyCondition, Status: "False", Message: "no tags"}})
	if s != "False" || m != "no tags" {
		t.Errorf("readyOf = %q %q", s, m)
	}
}

func TestImagePolicyRow(t *testing.T) {
	p := &v1alpha1.ImagePolicy{}
	p.Namespace, p.Name = "apps", "web"
	p.Status.LatestRef = &v1alpha1.ImageRef{Name: "ghcr.io/x/web", Tag: "1.2.0"}
	p.Status.ObservedPreviousRef = &v1alpha1.ImageRef{Name: "ghcr.io/x/web", Tag: "1.1.0"}
	p.Status.QuarantinedTags = []v1alpha1.QuarantinedTag{{Tag: "1.1.5", Reason: "failed checks"}, {Tag: "1.1.6"}}
	p.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: "True", Message: "latest is 1.2.0"}}
	want := ImagePolicyRow{Cluster: "prod", Namespace: "apps", Name: "web", Ready: "True", Message: "latest is 1.2.0",
		Image: "ghcr.io/x/web", Tag: "1.2.0", Previous: "1.1.0", Quarantined: []string{"1.1.5", "1.1.6"}}
	if diff := cmp.Diff(want, imagePolicyRow("prod", p)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	bare := imagePolicyRow("prod", &v1alpha1.ImagePolicy{})
	if bare.Ready != "Unknown" || bare.Image != "" || bare.Quarantined != nil {
		t.Errorf("row of a new ImagePolicy = %+v", bare)
	}
}

func TestImageUpdateRowWithoutARepository(t *testing.T) {
	u := &v1alpha1.ImageUpdate{}
	u.Namespace, u.Name = "apps", "bump"
	pushed := metav1.NewTime(t0.In(time.FixedZone("x", 3600)))
	u.Status.LastPushTime = &pushed
	u.Status.LastPushCommit = "abc123"
	got := (&Server{}).imageUpdateRow("prod", u)
	if got.LastPush == nil || !got.LastPush.Equal(t0) || got.LastPush.Location() != time.UTC || got.CommitMessage != "" || got.LastCommit != "abc123" {
		t.Errorf("row = %+v", got)
	}
}

func TestCanaryRowCarriesMetricsAndHistory(t *testing.T) {
	c := &v1alpha1.Canary{}
	c.Namespace, c.Name = "apps", "web"
	c.Status.Phase = "Progressing"
	c.Status.CanaryWeight = 20
	c.Status.LastMetrics = []v1alpha1.MetricResult{{Name: "success-rate", Value: "99.5", Passed: true}, {Name: "latency", Passed: false, Message: "no data"}}
	h := newCanaryHistory()
	h.record("prod", c, false)
	got := canaryRow("prod", c, h)
	wantMetrics := []Metric{{Name: "success-rate", Value: "99.5", OK: true}, {Name: "latency", Message: "no data"}}
	if diff := cmp.Diff(wantMetrics, got.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if len(got.History) != 1 || got.History[0].Weight != 20 || got.Phase != "Progressing" {
		t.Errorf("row = %+v", got)
	}
	if other := canaryRow("staging", c, h); len(other.History) != 0 {
		t.Errorf("another cluster's canary of the same name shares the history: %+v", other.History)
	}
	h.record("prod", c, true)
	if len(h.of("prod", "apps", "web")) != 0 {
		t.Error("a deleted canary keeps its history")
	}
}

func TestSortByName(t *testing.T) {
	rows := []ImagePolicyRow{{Namespace: "b", Name: "a"}, {Namespace: "a", Name: "z"}, {Namespace: "a", Name: "b"}}
	sortByName(rows, func(r ImagePolicyRow) (string, string) { return r.Namespace, r.Name })
	var got []string
	for _, r := range rows {
		got = append(got, r.Namespace+"/"+r.Name)
	}
	if diff := cmp.Diff([]string{"a/b", "a/z", "b/a"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestConditionOf(t *testing.T) {
	got := conditionOf(metav1.Condition{Type: "Ready", Status: "True", Reason: "Applied", Message: "ok", LastTransitionTime: metav1.NewTime(t0)})
	want := Condition{Type: "Ready", Status: "True", Reason: "Applied", Message: "ok", LastTransitionTime: t0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("condition (-want +got):\n%s", diff)
	}
}

func TestWriteErrorIsJSON(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, http.StatusForbidden, `a "quoted" <message>`)
	if w.Code != http.StatusForbidden || w.Header().Get("Content-Type") == "" {
		t.Fatalf("status %d, content type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("the error body is not JSON: %v: %s", err, w.Body.String())
	}
	found := false
	for _, v := range body {
		found = found || v == `a "quoted" <message>`
	}
	if !found {
		t.Errorf("body %v does not carry the message", body)
	}
}

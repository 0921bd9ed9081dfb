package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

const (
	revOld = "main@sha1:1111111111111111111111111111111111111111"
	revNew = "main@sha1:2222222222222222222222222222222222222222"
)

func TestFleetMatrixOfTwoClusters(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA, envB)
	ctx := context.Background()
	src := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: "https://git.example.com/fleet.git", Interval: metav1.Duration{Duration: time.Minute}},
	}
	if err := envA.Client.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.Status.Artifact = &v1alpha1.Artifact{Revision: revNew, Digest: "sha256:00", Path: "x", LastUpdateTime: metav1.Now()}
	if err := envA.Client.Status().Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	changed := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	apps := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()}
	apps.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "infra"}}
	apps.Status = v1alpha1.StackStatus{
		LastAppliedRevision: revOld,
		Conditions:          []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "applied", LastTransitionTime: changed}},
		Inventory:           []v1alpha1.InventoryEntry{{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "a"}},
		Drift: []v1alpha1.DriftRecord{
			{Object: "ConfigMap/" + ns + "/a", Fields: []string{".data.k"}, Manager: "kubectl-edit", Action: "corrected", Time: metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))},
			{Object: "ConfigMap/" + ns + "/a", Action: "recreated", Time: metav1.NewTime(time.Now().Add(-2 * time.Hour).Truncate(time.Second))},
		},
	}
	createStack(t, envA.Client, apps)
	infra := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "infra"}, Spec: stackSpec()}
	infra.Spec.Suspend = true
	infra.Status.LastAppliedRevision = revNew
	createStack(t, envA.Client, infra)
	broken := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()}
	broken.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "BuildFailed", Message: "kustomize build failed", LastTransitionTime: changed}}
	createStack(t, envB.Client, broken)

	s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA), cluster("staging", envB)}})
	waitFor(t, "both clusters with their Stacks", func() (bool, string) {
		f := s.Fleet()
		_, a := rowOf(f, "prod", ns, "infra")
		_, b := rowOf(f, "staging", ns, "apps")
		return a && b, fmt.Sprintf("%+v", f.Clusters)
	})

	f := getFleet(t, ts)
	if got := []string{f.Clusters[0].Name, f.Clusters[1].Name}; !cmp.Equal(got, []string{"prod", "staging"}) {
		t.Errorf("clusters = %v, want the kubeconfig's order prod, staging", got)
	}
	for _, c := range f.Clusters {
		if !c.Reachable || c.LastSeen == nil || c.Error != "" || c.Server == "" {
			t.Errorf("cluster %s: reachable %t, lastSeen %v, error %q, server %q: want reachable, seen, no error", c.Name, c.Reachable, c.LastSeen, c.Error, c.Server)
		}
	}
	if f.Token == "" || f.Actions {
		t.Errorf("token %q, actions %t: want a token and no actions by default", f.Token, f.Actions)
	}
	got, _ := rowOf(f, "prod", ns, "apps")
	at := changed.Time
	want := StackRow{
		Namespace: ns, Name: "apps", Ready: "True", Reason: "Succeeded", Message: "applied",
		Revision: revOld, SourceRevision: revNew, Behind: -1, DriftLastHour: 1, LastChange: &at, Objects: 1,
		DependsOn: []string{ns + "/infra"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row of prod %s/apps (-want +got):\n%s", ns, diff)
	}
	got, _ = rowOf(f, "prod", ns, "infra")
	want = StackRow{Namespace: ns, Name: "infra", Ready: "Unknown", Suspended: true, Revision: revNew, SourceRevision: revNew, Behind: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row of prod %s/infra (-want +got):\n%s", ns, diff)
	}
	got, _ = rowOf(f, "staging", ns, "apps")
	if got.Ready != "False" || got.Reason != "BuildFailed" || got.Behind != -1 {
		t.Errorf("row of staging %s/apps = %+v: want Ready False, BuildFailed, behind -1 (no revision)", ns, got)
	}
	if prod, _ := clusterOf(f, "prod"); !sortedRows(prod.Stacks) {
		t.Errorf("rows of prod not sorted by namespace and name: %+v", prod.Stacks)
	}
}

func sortedRows(rows []StackRow) bool {
	for i := 1; i < len(rows); i++ {
		a, b := rows[i-1], rows[i]
		if a.Namespace > b.Namespace || a.Namespace == b.Namespace && a.Name >= b.Name {
			return false
		}
	}
	return true
}

func getFleet(t *testing.T, ts *httptest.Server) Fleet {
	t.Helper()
	var f Fleet
	getJSON(t, ts.Client(), ts.URL+"/api/fleet", http.StatusOK, &f)
	return f
}

func getJSON(t *testing.T, c *http.Client, url string, wantCode int, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		t.Fatalf("GET %s: %s: %s; want %d", url, resp.Status, body, wantCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

func TestEventStreamSendsAClusterAfterAStatusChange(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()}
	createStack(t, envA.Client, st)
	s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA)}})
	waitFor(t, "the Stack's row", func() (bool, string) {
		_, ok := rowOf(s.Fleet(), "prod", ns, "apps")
		return ok, ""
	})

	events := readEvents(t, ts)
	first := <-events
	var f Fleet
	if err := json.Unmarshal([]byte(first.data), &f); first.name != "fleet" || err != nil || len(f.Clusters) != 1 {
		t.Fatalf("first event = %s %.200s (%v): want the whole fleet", first.name, first.data, err)
	}
	setReady(t, envA.Client, client.ObjectKeyFromObject(st), metav1.ConditionFalse, "HealthCheckFailed", "deployment not ready")
	deadline := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended before the change arrived")
			}
			if ev.name != "cluster" {
				continue
			}
			var c Cluster
			if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
				t.Fatalf("cluster event %.200s: %v", ev.data, err)
			}
			for _, r := range c.Stacks {
				if r.Namespace == ns && r.Name == "apps" && r.Ready == "False" {
					if c.Version <= f.Version {
						t.Errorf("cluster event version %d not above the fleet's %d", c.Version, f.Version)
					}
					return
				}
			}
		case <-deadline:
			t.Fatal("no cluster event with the Stack's Ready=False within a minute")
		}
	}
}

func TestStoppedClusterIsMarkedUnreachableAndKeepsItsRows(t *testing.T) {
	controlplane.Require(t, envA)
	envC, err := controlplane.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer envC.Stop()
	ns := newNamespace(t, envA, envC)
	createStack(t, envA.Client, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()})
	createStack(t, envC.Client, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"}, Spec: stackSpec()})
	s, _ := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA), cluster("edge", envC)}})
	waitFor(t, "both clusters' rows", func() (bool, string) {
		f := s.Fleet()
		_, a := rowOf(f, "prod", ns, "apps")
		_, c := rowOf(f, "edge", ns, "edge")
		return a && c, fmt.Sprintf("%+v", f.Clusters)
	})

	if err := envC.Stop(); err != nil {
		// kube-apiserver may outlive envtest's stop timeout while watches
		// are open; envtest then kills it, which is a stop all the same.
		t.Logf("stopping the control plane: %v", err)
	}
	waitFor(t, "edge unreachable", func() (bool, string) {
		c, _ := clusterOf(s.Fleet(), "edge")
		return !c.Reachable, fmt.Sprintf("%+v", c)
	})
	f := s.Fleet()
	edge, _ := clusterOf(f, "edge")
	if !strings.Contains(edge.Error, "unreachable") || edge.LastSeen == nil {
		t.Errorf("edge: error %q, lastSeen %v: want the reason it is unreachable and when it last answered", edge.Error, edge.LastSeen)
	}
	if _, ok := rowOf(f, "edge", ns, "edge"); !ok {
		t.Errorf("edge lost its rows when it stopped: %+v", edge.Stacks)
	}
	if prod, _ := clusterOf(f, "prod"); !prod.Reachable || prod.Error != "" {
		t.Errorf("prod: reachable %t, error %q: want the other cluster unaffected", prod.Reachable, prod.Error)
	}
}

func TestUnreachableClusterAtStartDoesNotHoldBackTheOthers(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	createStack(t, envA.Client, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()})
	gone := rest.CopyConfig(envA.Config)
	gone.Host = "https://127.0.0.1:1" // nothing listens there
	s, _ := startServer(t, Options{Clusters: []ClusterConfig{{Name: "gone", Config: gone}, cluster("prod", envA)}})
	waitFor(t, "prod's rows and gone unreachable", func() (bool, string) {
		f := s.Fleet()
		g, _ := clusterOf(f, "gone")
		_, ok := rowOf(f, "prod", ns, "apps")
		return ok && !g.Reachable && strings.Contains(g.Error, "unreachable"), fmt.Sprintf("%+v", f.Clusters)
	})
}

func TestKindForbiddenByRBACIsNamedAndStacksStillShow(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	ctx := context.Background()
	createStack(t, envA.Client, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()})
	user := "viewer-" + ns
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{v1alpha1.GroupVersion.Group}, Verbs: []string{"get", "list", "watch"},
			Resources: []string{"stacks", "gitrepositories", "imagepolicies", "imageupdates"}, // not canaries
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := envA.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := envA.AddUser(user)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := startServer(t, Options{Clusters: []ClusterConfig{{Name: "prod", Config: cfg}}})
	waitFor(t, "canaries named as forbidden, and the Stack", func() (bool, string) {
		f := s.Fleet()
		c, _ := clusterOf(f, "prod")
		_, ok := rowOf(f, "prod", ns, "apps")
		return ok && strings.Contains(c.Error, "canaries: forbidden"), fmt.Sprintf("%+v", c)
	})
	c, _ := clusterOf(s.Fleet(), "prod")
	if !c.Reachable || strings.Contains(c.Error, "stacks") {
		t.Errorf("prod: reachable %t, error %q: want reachable, with only canaries named", c.Reachable, c.Error)
	}
}

func TestHostCheckRefusesAForeignHost(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	url, done, err := Listen(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the server ended with %v", err)
		}
	}()
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Fatalf("url = %q: want http://127.0.0.1:PORT/", url)
	}
	port := strings.TrimSuffix(strings.TrimPrefix(url, "http://127.0.0.1:"), "/")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"attacker.example:" + port, http.StatusMisdirectedRequest},
		{"localhost:1", http.StatusMisdirectedRequest},
		{"attacker.example", http.StatusMisdirectedRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, url+"api/fleet", nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %s: %s %s; want %d", tc.host, resp.Status, body, tc.want)
		}
		if tc.want != http.StatusOK && strings.Contains(string(body), s.token) {
			t.Errorf("Host %s: the refusal carries the token", tc.host)
		}
	}
}

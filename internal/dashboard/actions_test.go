package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// post sends an action and returns the status code and body.
func post(t *testing.T, ts *httptest.Server, path, token string) (int, string) {
	t.Helper()
	header := map[string]string{}
	if token != "" {
		header[TokenHeader] = token
	}
	r := do(t, ts, http.MethodPost, path, header)
	return r.code, r.body
}

func TestActionsNeedAllowActionsAndTheToken(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	ctx := context.Background()
	st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()}
	createStack(t, envA.Client, st)
	key := client.ObjectKeyFromObject(st)
	base := "/api/clusters/prod/stacks/" + ns + "/apps/"

	t.Run("read-only server refuses even with the token", func(t *testing.T) {
		s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA)}})
		if code, body := post(t, ts, base+"reconcile", s.token); code != http.StatusForbidden || !strings.Contains(body, "--allow-actions") {
			t.Errorf("POST reconcile: %d %s; want 403 naming --allow-actions", code, body)
		}
	})

	s, ts := startServer(t, Options{Clusters: []ClusterConfig{cluster("prod", envA)}, AllowActions: true})
	if !getFleet(t, ts).Actions {
		t.Error("fleet.actions is false on a server with actions allowed")
	}
	for _, token := range []string{"", "wrong"} {
		if code, _ := post(t, ts, base+"suspend", token); code != http.StatusForbidden {
			t.Errorf("POST suspend with token %q: %d; want 403", token, code)
		}
	}
	got := &v1alpha1.Stack{}
	read := func() {
		t.Helper()
		if err := envA.Client.Get(ctx, key, got); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if got.Spec.Suspend {
		t.Fatal("a POST without the token suspended the Stack")
	}

	before := time.Now().Add(-time.Second)
	if code, body := post(t, ts, base+"reconcile", s.token); code != http.StatusNoContent {
		t.Fatalf("POST reconcile: %d %s; want 204", code, body)
	}
	read()
	at, err := time.Parse(time.RFC3339Nano, got.Annotations[v1alpha1.ReconcileRequestAnnotation])
	if err != nil || at.Before(before) {
		t.Errorf("annotation %s = %q (%v): want a fresh RFC 3339 time", v1alpha1.ReconcileRequestAnnotation, got.Annotations[v1alpha1.ReconcileRequestAnnotation], err)
	}
	if code, body := post(t, ts, base+"suspend", s.token); code != http.StatusNoContent {
		t.Fatalf("POST suspend: %d %s; want 204", code, body)
	}
	if read(); !got.Spec.Suspend {
		t.Error("spec.suspend is false after suspend")
	}
	if code, body := post(t, ts, base+"resume", s.token); code != http.StatusNoContent {
		t.Fatalf("POST resume: %d %s; want 204", code, body)
	}
	if read(); got.Spec.Suspend {
		t.Error("spec.suspend is true after resume")
	}
	if code, _ := post(t, ts, base+"delete", s.token); code != http.StatusNotFound {
		t.Errorf("POST delete: %d; want 404 for an unknown action", code)
	}
	if code, _ := post(t, ts, "/api/clusters/prod/stacks/"+ns+"/nope/reconcile", s.token); code != http.StatusNotFound {
		t.Errorf("POST reconcile of a missing Stack: %d; want 404", code)
	}
}

func TestActionForbiddenByRBACIsA403WithTheAPIServersMessage(t *testing.T) {
	controlplane.Require(t, envA)
	ns := newNamespace(t, envA)
	createStack(t, envA.Client, &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"}, Spec: stackSpec()})
	cfg := userWithRules(t, envA, "reader-"+ns, []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}})
	s, ts := startServer(t, Options{Clusters: []ClusterConfig{{Name: "prod", Config: cfg}}, AllowActions: true})
	code, body := post(t, ts, "/api/clusters/prod/stacks/"+ns+"/apps/suspend", s.token)
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusForbidden || !strings.Contains(e.Error, "cannot patch") {
		t.Errorf("POST suspend as a reader: %d %s; want 403 with the API server's message", code, body)
	}
}

package apply_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/flotilla-io/flotilla/internal/apply"
)

func withConditions(apiVersion, kind string, conditions ...map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": "x", "namespace": "ns", "generation": int64(1)},
	}}
	if conditions != nil {
		list := make([]any, 0, len(conditions))
		for _, c := range conditions {
			list = append(list, c)
		}
		u.Object["status"] = map[string]any{"conditions": list}
	}
	return u
}

func ready(status, reason string) map[string]any {
	return map[string]any{"type": "Ready", "status": status, "reason": reason, "message": "from the controller"}
}

func TestSecretControllersHealthRules(t *testing.T) {
	kinds := []struct{ apiVersion, kind string }{
		{"bitnami.com/v1alpha1", "SealedSecret"},
		{"external-secrets.io/v1", "ExternalSecret"},
		{"external-secrets.io/v1beta1", "ExternalSecret"},
	}
	cases := []struct {
		name       string
		conditions []map[string]any
		want       status.Status
	}{
		{"no status yet", nil, status.InProgressStatus},
		{"Ready True", []map[string]any{ready("True", "Succeeded")}, status.CurrentStatus},
		{"Ready False", []map[string]any{ready("False", "ErrUnsealFailed")}, status.FailedStatus},
		{"Ready Unknown", []map[string]any{ready("Unknown", "Progressing")}, status.InProgressStatus},
		{"Reconciling wins over Ready", []map[string]any{ready("True", "x"), {"type": "Reconciling", "status": "True", "reason": "Working"}}, status.InProgressStatus},
	}
	for _, k := range kinds {
		for _, tc := range cases {
			t.Run(k.apiVersion+" "+tc.name, func(t *testing.T) {
				res, err := apply.ComputeStatus(withConditions(k.apiVersion, k.kind, tc.conditions...))
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != tc.want {
					t.Errorf("status = %s (%s), want %s", res.Status, res.Message, tc.want)
				}
			})
		}
	}
	// Other custom resources keep kstatus's generic verdict.
	if res, _ := apply.ComputeStatus(withConditions("example.com/v1", "Widget")); res.Status != status.CurrentStatus {
		t.Errorf("a Widget without conditions is %s, want Current as kstatus says", res.Status)
	}
}

// With the CRDs installed on the real API server and no controller, the
// objects' health follows the Ready condition that the test writes in the
// controllers' place.
func TestWaitReadsSealedAndExternalSecretsReadyCondition(t *testing.T) {
	f := newFixture(t)
	f.createNamespace()
	mgr := f.manager("secrets")
	mustApply(t, mgr, f.load("secret-controllers-crds.yaml"))
	objs := f.load("secret-controllers-objects.yaml")
	mustApply(t, mgr, objs)
	meta := metadataOf(objs)

	var he *apply.HealthError
	if err := mgr.Wait(context.Background(), meta, time.Second); !errors.As(err, &he) || len(he.NotReady) != 3 {
		t.Fatalf("before any controller answers: %v, want all three not ready", err)
	}

	f.setReady(meta[0], "True", "Succeeded")
	f.setReady(meta[1], "True", "SecretSynced")
	f.setReady(meta[2], "False", "SecretSyncedError")
	err := mgr.Wait(context.Background(), meta, 30*time.Second)
	if !errors.As(err, &he) || len(he.NotReady) != 1 || he.NotReady[0].Object.Name != "external-v1beta1" || he.NotReady[0].Status != status.FailedStatus.String() {
		t.Fatalf("with one Ready=False: %v, want only external-v1beta1 Failed", err)
	}

	f.setReady(meta[2], "True", "SecretSynced")
	if err := mgr.Wait(context.Background(), meta, 30*time.Second); err != nil {
		t.Fatalf("all Ready: %v", err)
	}
}

// setReady writes the Ready condition through the status subresource, as
// the object's controller would.
func (f *fixture) setReady(m apply.ObjMetadata, value, reason string) {
	f.t.Helper()
	u := f.get(m)
	u.Object["status"] = map[string]any{"conditions": []any{ready(value, reason)}}
	if err := f.live.Status().Update(context.Background(), u); err != nil {
		f.t.Fatalf("writing the status of %s: %v", m.Name, err)
	}
}

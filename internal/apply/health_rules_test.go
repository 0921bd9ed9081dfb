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

func condition(condType, status, reason string) map[string]any {
	return map[string]any{"type": condType, "status": status, "reason": reason, "message": "from the controller"}
}

func TestSecretControllersHealthRules(t *testing.T) {
	// The Sealed Secrets controller writes Synced (v0.17 and later), the
	// External Secrets operator Ready.
	kinds := []struct{ apiVersion, kind, condition string }{
		{"bitnami.com/v1alpha1", "SealedSecret", "Synced"},
		{"external-secrets.io/v1", "ExternalSecret", "Ready"},
		{"external-secrets.io/v1beta1", "ExternalSecret", "Ready"},
		{"external-secrets.io/v1", "ClusterExternalSecret", "Ready"},
	}
	cases := []struct {
		name       string
		conditions func(condType string) []map[string]any
		want       status.Status
	}{
		{"no status yet", func(string) []map[string]any { return nil }, status.InProgressStatus},
		{"True", func(c string) []map[string]any { return []map[string]any{condition(c, "True", "Succeeded")} }, status.CurrentStatus},
		{"False", func(c string) []map[string]any { return []map[string]any{condition(c, "False", "ErrUnsealFailed")} }, status.FailedStatus},
		{"Unknown", func(c string) []map[string]any { return []map[string]any{condition(c, "Unknown", "Progressing")} }, status.InProgressStatus},
		{"another kind's condition only", func(c string) []map[string]any {
			return []map[string]any{condition(map[string]string{"Synced": "Ready", "Ready": "Synced"}[c], "True", "x")}
		}, status.InProgressStatus},
		{"Reconciling wins", func(c string) []map[string]any {
			return []map[string]any{condition(c, "True", "x"), {"type": "Reconciling", "status": "True", "reason": "Working"}}
		}, status.InProgressStatus},
	}
	for _, k := range kinds {
		for _, tc := range cases {
			t.Run(k.apiVersion+" "+k.kind+" "+k.condition+" "+tc.name, func(t *testing.T) {
				res, err := apply.ComputeStatus(withConditions(k.apiVersion, k.kind, tc.conditions(k.condition)...))
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != tc.want {
					t.Errorf("status = %s (%s), want %s", res.Status, res.Message, tc.want)
				}
				if tc.want == status.FailedStatus && res.Message != k.condition+" is False: ErrUnsealFailed: from the controller" {
					t.Errorf("message = %q, want the condition's type, reason and message", res.Message)
				}
			})
		}
	}
	// The Sealed Secrets controller writes no reason.
	noReason := map[string]any{"type": "Synced", "status": "False", "message": "no key could decrypt secret (password)"}
	if res, _ := apply.ComputeStatus(withConditions("bitnami.com/v1alpha1", "SealedSecret", noReason)); res.Message != "Synced is False: no key could decrypt secret (password)" {
		t.Errorf("without a reason: message = %q", res.Message)
	}
	// Other custom resources keep kstatus's generic verdict.
	if res, _ := apply.ComputeStatus(withConditions("example.com/v1", "Widget")); res.Status != status.CurrentStatus {
		t.Errorf("a Widget without conditions is %s, want Current as kstatus says", res.Status)
	}
}

// With the CRDs installed on the real API server and no controller, the
// objects' health follows the condition (Synced for a SealedSecret, Ready
// for an ExternalSecret) that the test writes in the controllers' place.
func TestWaitReadsSealedAndExternalSecretsConditions(t *testing.T) {
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

	f.setCondition(meta[0], "Synced", "True", "")
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
	f.setCondition(m, "Ready", value, reason)
}

// setCondition writes a condition through the status subresource, as the
// object's controller would.
func (f *fixture) setCondition(m apply.ObjMetadata, condType, value, reason string) {
	f.t.Helper()
	u := f.get(m)
	u.Object["status"] = map[string]any{"conditions": []any{condition(condType, value, reason)}}
	if err := f.live.Status().Update(context.Background(), u); err != nil {
		f.t.Fatalf("writing the status of %s: %v", m.Name, err)
	}
}

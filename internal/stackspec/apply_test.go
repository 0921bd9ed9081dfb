package stackspec

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

func TestApplyOptionsTakeTheStacksForceAndOwnerOverTheBase(t *testing.T) {
	base := apply.Options{FieldManager: "agent", Concurrency: 3, OwnerName: "stale", OwnerNamespace: "stale", Poll: time.Second, CRDTimeout: time.Minute}
	for _, force := range []bool{false, true} {
		st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}, Spec: v1alpha1.StackSpec{Force: force}}
		want := apply.Options{FieldManager: "agent", Concurrency: 3, Force: force, OwnerName: "web", OwnerNamespace: "team-a", Poll: time.Second, CRDTimeout: time.Minute}
		if diff := cmp.Diff(want, ApplyOptions(base, st)); diff != "" {
			t.Errorf("force %v (-want +got):\n%s", force, diff)
		}
	}
	if base.OwnerName != "stale" {
		t.Error("ApplyOptions changed the base it was given")
	}
}

package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// TestFinalizerIsAddedOnceAndRemovedForGood follows the finalizer through
// a reconciler's life: added once (before refreshed, the write recorded),
// holding a deleted object, removed by finalize so the object goes, and
// removed again from an object already gone without error. The
// reconcilers' deletion tests (envtest, package controller_test) show the
// same against the real API server.
func TestFinalizerIsAddedOnceAndRemovedForGood(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().Build()
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "finalized"}}
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("creating ConfigMap: %v", err)
	}
	var w writtenVersions
	before := obj.DeepCopy()

	if err := ensureFinalizer(ctx, c, &w, obj, &before); err != nil {
		t.Fatalf("ensureFinalizer: %v", err)
	}
	if !controllerutil.ContainsFinalizer(before, v1alpha1.FinalizerName) || before.ResourceVersion != obj.ResourceVersion {
		t.Errorf("before = %v at %s, want the written object (%s)", before.Finalizers, before.ResourceVersion, obj.ResourceVersion)
	}
	added := obj.ResourceVersion
	if got := w.m[client.ObjectKeyFromObject(obj)]; got != added {
		t.Errorf("recorded version %q, want %q", got, added)
	}
	if err := ensureFinalizer(ctx, c, &w, obj, &before); err != nil || obj.ResourceVersion != added {
		t.Errorf("a second ensureFinalizer wrote again (version %s, was %s) or failed: %v", obj.ResourceVersion, added, err)
	}

	if err := c.Delete(ctx, obj); err != nil {
		t.Fatalf("deleting ConfigMap: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil || obj.DeletionTimestamp.IsZero() {
		t.Fatalf("the finalizer did not hold the deleted ConfigMap: %v", err)
	}
	if err := removeFinalizer(ctx, c, &w, obj); err != nil {
		t.Fatalf("removeFinalizer: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap is still there once its finalizer was removed: %v", err)
	}
	controllerutil.AddFinalizer(obj, v1alpha1.FinalizerName) // as a stale copy still has it
	if err := removeFinalizer(ctx, c, &w, obj); err != nil {
		t.Errorf("removeFinalizer of an object already gone: %v", err)
	}
}

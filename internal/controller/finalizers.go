package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// copyable is a Kubernetes object with its typed deep copy, as the
// reconcilers keep one to compare their status patch with.
type copyable[T any] interface {
	client.Object
	DeepCopy() T
}

// ensureFinalizer adds Flotilla's finalizer to obj when it lacks it and
// records the write in w. before, the copy the deferred status patch
// compares with, becomes a copy of obj as written, so that patch does not
// send the finalizer again.
func ensureFinalizer[T copyable[T]](ctx context.Context, c client.Client, w *writtenVersions, obj T, before *T) error {
	if controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.AddFinalizer(obj, v1alpha1.FinalizerName)
	err := c.Patch(ctx, obj, patch)
	*before = obj.DeepCopy()
	if err == nil {
		w.record(obj)
	}
	return err
}

// removeFinalizer lets obj go once its reconciler has cleaned up after it:
// it removes Flotilla's finalizer and records the write in w. An object
// already gone is no error.
func removeFinalizer(ctx context.Context, c client.Client, w *writtenVersions, obj client.Object) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerName)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return client.IgnoreNotFound(err)
	}
	w.record(obj)
	return nil
}

package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/conditions"
)

// statusObject is a Provider, Alert or Receiver: an object with
// conditions whose status the reconciler patches once at the end.
type statusObject interface {
	client.Object
	conditions.Object
}

// patchStatusOf writes obj's status when status(obj) changed since
// before; status returns the status struct to compare.
func patchStatusOf[T statusObject](ctx context.Context, c client.Client, before, obj T, status func(T) any) error {
	if equality.Semantic.DeepEqual(status(before), status(obj)) {
		return nil
	}
	return client.IgnoreNotFound(c.Status().Patch(ctx, obj, client.MergeFrom(before)))
}

// secretRefsIndex indexes objects by the names of the Secrets they read.
const secretRefsIndex = ".spec.secretRefs"

package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Bounds of the wait for the informer cache to show a reconciler's own
// last write; past the timeout the reconcile fails and is retried.
const (
	freshPoll    = 5 * time.Millisecond
	freshTimeout = 10 * time.Second
)

// writtenVersions remembers the resourceVersion of the last write a
// reconciler made to each of its objects.
//
// The informer cache shows a write a few milliseconds after it is made. A
// reconcile that a watch queued while the previous one ran starts right
// after it, and would read the object as it was before that reconcile: a
// Stack then re-applies the revision it has just applied, and its status
// patch, computed from the stale copy, writes back an old inventory or a
// summary mixing both applies. readFresh waits until the cache has caught
// up instead.
type writtenVersions struct {
	mu sync.Mutex
	m  map[types.NamespacedName]string
}

// record notes obj's resourceVersion after a successful write; an older
// version than the one recorded (from a concurrent writer) is ignored.
func (w *writtenVersions) record(obj client.Object) {
	rv := obj.GetResourceVersion()
	if rv == "" {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.NamespacedName]string{}
	}
	if cur, ok := w.m[key]; ok {
		if c, err := resourceversion.CompareResourceVersion(rv, cur); err == nil && c < 0 {
			return
		}
	}
	w.m[key] = rv
}

func (w *writtenVersions) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}

// behind reports whether obj, as read, predates the last recorded write.
// Versions that do not compare (not integers) never count as behind.
func (w *writtenVersions) behind(obj client.Object) bool {
	w.mu.Lock()
	want, ok := w.m[client.ObjectKeyFromObject(obj)]
	w.mu.Unlock()
	if !ok {
		return false
	}
	c, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), want)
	return err == nil && c < 0
}

// readFresh reads key into obj from c, waiting until the copy includes the
// last write recorded in w. A NotFound error is returned as is.
func readFresh(ctx context.Context, c client.Reader, w *writtenVersions, key types.NamespacedName, obj client.Object) error {
	err := wait.PollUntilContextTimeout(ctx, freshPoll, freshTimeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, key, obj); err != nil {
			return false, err
		}
		return !w.behind(obj), nil
	})
	if apierrors.IsNotFound(err) {
		w.forget(key)
		return err
	}
	if err != nil {
		return fmt.Errorf("reading %s as of this agent's last write to it: %w", key, err)
	}
	return nil
}

// patchStatus writes what changed in obj's status since before (status
// returns an object's status) and records the written version; an object
// deleted meanwhile is not an error. Every reconciler patches through it.
func patchStatus[T client.Object, S any](ctx context.Context, c client.Client, w *writtenVersions, before, obj T, status func(T) S) error {
	if equality.Semantic.DeepEqual(status(before), status(obj)) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return client.IgnoreNotFound(err)
	}
	w.record(obj)
	return nil
}

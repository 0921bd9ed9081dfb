package drift

import (
	"context"
	"sort"
	"sync/atomic"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// informerKey names one informer: what it watches, where, and as whom.
// Stacks that act as the same identity share their informers.
type informerKey struct {
	identity string
	gvr      schema.GroupVersionResource
	// namespace is empty for an informer of every namespace, or of a
	// cluster-scoped kind.
	namespace string
}

// String is identity|group/version/resource|namespace.
func (k informerKey) String() string {
	return k.identity + "|" + k.gvr.Group + "/" + k.gvr.Version + "/" + k.gvr.Resource + "|" + k.namespace
}

type informer struct {
	inf  cache.SharedIndexInformer
	stop chan struct{}
	refs int
	// refused is set when a list or watch was forbidden after the start
	// (RBAC changed): the informer no longer sees changes.
	refused atomic.Bool
}

// need is what one Stack needs watched of one kind.
type need struct {
	kind       schema.GroupVersionKind
	gvr        schema.GroupVersionResource
	namespaced bool
	namespaces map[string]bool
}

// clients act as one identity.
type clients struct {
	meta   metadata.Interface
	access authorizationv1client.SelfSubjectAccessReviewInterface
}

// clientsFor returns the clients that act as identity, made once.
func (w *Watcher) clientsFor(identity string) (*clients, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.clients[identity]; c != nil {
		return c, nil
	}
	cfg := stackspec.ConfigFor(w.config, identity)
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	az, err := authorizationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &clients{meta: md, access: az.SelfSubjectAccessReviews()}
	w.clients[identity] = c
	return c, nil
}

// plan returns the informers that watch needs as identity, and a
// WatchError for each kind and namespace identity may not watch.
func (w *Watcher) plan(ctx context.Context, identity string, needs map[schema.GroupVersionResource]*need) ([]informerKey, []error) {
	var keys []informerKey
	var errs []error
	for _, n := range needs {
		k, e := w.scope(ctx, identity, n)
		keys, errs = append(keys, k...), append(errs, e...)
	}
	return keys, errs
}

// scope watches n cluster-wide when identity may, else in each of its
// namespaces that identity may watch.
func (w *Watcher) scope(ctx context.Context, identity string, n *need) ([]informerKey, []error) {
	cluster := informerKey{identity: identity, gvr: n.gvr}
	ok, err := w.mayWatch(ctx, cluster)
	switch {
	case err != nil:
		return nil, []error{&WatchError{Kind: n.kind, Identity: identity, Err: err}}
	case ok:
		return []informerKey{cluster}, nil
	case !n.namespaced:
		return nil, []error{&WatchError{Kind: n.kind, Identity: identity, Err: ErrWatchForbidden}}
	}
	var keys []informerKey
	var errs []error
	for _, ns := range sortedKeys(n.namespaces) {
		k := informerKey{identity: identity, gvr: n.gvr, namespace: ns}
		ok, err := w.mayWatch(ctx, k)
		if err == nil && !ok {
			err = ErrWatchForbidden
		}
		if err != nil {
			errs = append(errs, &WatchError{Kind: n.kind, Namespace: ns, Identity: identity, Err: err})
			continue
		}
		keys = append(keys, k)
	}
	return keys, errs
}

// mayWatch reports whether k can be watched: an informer for it works
// already, or an access review as its identity allows list and watch.
func (w *Watcher) mayWatch(ctx context.Context, k informerKey) (bool, error) {
	w.mu.Lock()
	inf := w.informers[k]
	w.mu.Unlock()
	if inf != nil && !inf.refused.Load() {
		return true, nil
	}
	c, err := w.clientsFor(k.identity)
	if err != nil {
		return false, err
	}
	return canListAndWatch(ctx, c.access, k.gvr, k.namespace)
}

// canListAndWatch asks the API server whether the caller may list and
// watch gvr in namespace (every namespace when empty).
func canListAndWatch(ctx context.Context, access authorizationv1client.SelfSubjectAccessReviewInterface, gvr schema.GroupVersionResource, namespace string) (bool, error) {
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: namespace, Verb: verb, Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource,
			},
		}}
		res, err := access.Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		if !res.Status.Allowed {
			return false, nil
		}
	}
	return true, nil
}

// retain starts the informers of keys not running yet, and restarts those
// that were refused (the access review allowed them again); callers hold mu.
func (w *Watcher) retain(keys map[informerKey]bool) {
	for k := range keys {
		inf := w.informers[k]
		switch {
		case inf == nil:
			w.informers[k] = w.startInformer(k)
		case inf.refused.Load():
			close(inf.stop)
			next := w.startInformer(k)
			next.refs = inf.refs + 1
			w.informers[k] = next
		default:
			inf.refs++
		}
	}
}

// release stops informers no Stack needs any more; callers hold mu.
func (w *Watcher) release(keys map[informerKey]bool) {
	for k := range keys {
		inf := w.informers[k]
		if inf == nil {
			continue
		}
		if inf.refs--; inf.refs <= 0 {
			close(inf.stop)
			delete(w.informers, k)
		}
	}
}

// startInformer runs a metadata-only informer for k, filtered to objects
// that carry a Stack's owner label; callers hold mu and made k's clients.
func (w *Watcher) startInformer(k informerKey) *informer {
	gvr := k.gvr
	gi := metadatainformer.NewFilteredMetadataInformer(w.clients[k.identity].meta, gvr, k.namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = apply.OwnerNameLabel })
	inf := &informer{inf: gi.Informer(), stop: make(chan struct{}), refs: 1}
	_ = inf.inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) && !inf.refused.Swap(true) {
			w.opts.Log.Error(err, "drift watch forbidden", "identity", stackspec.IdentityName(k.identity),
				"resource", gvr.String(), "namespace", k.namespace)
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	})
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			w.queue.Add(gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "|" + key)
		}
	}
	// Adds matter too: an edit made between an apply and the informer's
	// first list shows up only as an add.
	_, _ = inf.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, n any) { enqueue(n) },
		DeleteFunc: enqueue,
	})
	go inf.inf.Run(inf.stop)
	return inf
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

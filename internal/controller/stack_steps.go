package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// applier returns an apply engine for the Stack, impersonating its service
// account when it names one.
func (r *StackReconciler) applier(obj *v1alpha1.Stack) (*apply.Manager, error) {
	cfg := stackspec.ConfigFor(r.Config, r.Lockdown.identity(obj))
	c, err := client.New(cfg, client.Options{Scheme: r.Scheme(), Mapper: r.Mapper})
	if err != nil {
		return nil, err
	}
	return apply.NewManager(c, stackspec.ApplyOptions(r.ApplyOptions, obj)), nil
}

// apply runs the engine, prunes what left the set, and records the
// inventory: everything applied, plus anything a failed prune kept.
func (r *StackReconciler) apply(ctx context.Context, obj *v1alpha1.Stack, mgr *apply.Manager, objs []*unstructured.Unstructured, red *redact.Redactor) (apply.ChangeSet, *failure) {
	old := stackspec.FromInventory(obj.Status.Inventory)
	current := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		current = append(current, apply.MetadataOf(o))
	}
	changes, err := mgr.Apply(ctx, objs)
	if err != nil {
		obj.Status.Inventory = stackspec.ToInventory(union(old, mayHaveWritten(err, changes, current)))
		return changes, applyFailure(err, red)
	}
	inventory := current
	stale := apply.Diff(old, current)
	if pc := stackspec.PruneCapOf(obj); obj.Spec.Prune && pc.HoldsBack(len(stale), len(old)) {
		obj.Status.Inventory = stackspec.ToInventory(union(current, stale))
		obj.Status.LastChange = summarize(changes)
		return changes, stalled(v1alpha1.ReasonPruneFailed, pc.Refusal(len(stale), len(old)))
	}
	if obj.Spec.Prune {
		pruned, err := mgr.Prune(ctx, stale)
		changes.Append(pruned)
		if err != nil {
			kept := apply.Diff(apply.Diff(old, current), pruned.Objects(apply.Deleted, apply.Skipped))
			obj.Status.Inventory = stackspec.ToInventory(union(current, kept))
			obj.Status.LastChange = summarize(changes)
			return changes, failed(v1alpha1.ReasonPruneFailed, "pruning failed, the objects stay in the inventory and are retried: "+red.Error(err))
		}
	}
	obj.Status.Inventory = stackspec.ToInventory(inventory)
	obj.Status.LastChange = summarize(changes)
	return changes, nil
}

func applyFailure(err error, red *redact.Redactor) *failure {
	var ve *apply.ValidationError
	switch {
	case errors.As(err, &ve) && ve.Unavailable():
		return failed(v1alpha1.ReasonAPIServerUnavailable, red.Error(err))
	case errors.As(err, &ve):
		return failed(v1alpha1.ReasonValidationFailed, red.Error(err))
	}
	return failed(v1alpha1.ReasonApplyFailed, red.Error(err))
}

// mayHaveWritten returns the objects a failed apply may have written, which
// the inventory must keep. A set refused by its dry-run wrote only what the
// change set reports. Any other failure keeps every object of the set: a
// write that failed in transit (a connection reset, a timeout, a 503 from a
// proxy) may have reached the API server all the same, and an object left
// out of the inventory would be orphaned.
func mayHaveWritten(err error, changes apply.ChangeSet, current []apply.ObjMetadata) []apply.ObjMetadata {
	written := changes.Objects(apply.Created, apply.Configured, apply.Recreated, apply.Unchanged)
	var ve *apply.ValidationError
	if errors.As(err, &ve) {
		return written
	}
	return union(written, current)
}

// wait checks health: every applied object with wait, or the healthChecks.
func (r *StackReconciler) wait(ctx context.Context, obj *v1alpha1.Stack, mgr *apply.Manager, objs []*unstructured.Unstructured, red *redact.Redactor) *failure {
	var targets []apply.ObjMetadata
	switch {
	case obj.Spec.Wait:
		for _, o := range objs {
			targets = append(targets, apply.MetadataOf(o))
		}
	case len(obj.Spec.HealthChecks) > 0:
		for _, h := range obj.Spec.HealthChecks {
			gv, _ := schema.ParseGroupVersion(h.APIVersion)
			targets = append(targets, apply.ObjMetadata{Group: gv.Group, Version: gv.Version, Kind: h.Kind, Namespace: h.Namespace, Name: h.Name})
		}
	default:
		return nil
	}
	timeout := obj.ApplyTimeout()
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline) // what is left of the Stack's timeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	// The watcher gets copies: obj changes once the wait is over (the final
	// status patch decodes into it), possibly before the watcher returns.
	ns, name := obj.SourceKey()
	source, attempted := client.ObjectKey{Namespace: ns, Name: name}, obj.Status.LastAttemptedRevision
	watched := make(chan struct{})
	defer func() { cancel(nil); <-watched }()
	go func() {
		defer close(watched)
		r.cancelOnNewRevision(ctx, source, attempted, cancel)
	}()
	if err := mgr.Wait(ctx, targets, timeout); err != nil {
		var superseded *supersededError
		if errors.As(context.Cause(ctx), &superseded) {
			return &failure{reason: v1alpha1.ReasonProgressing, message: superseded.Error(), requeueNow: true}
		}
		return failed(v1alpha1.ReasonHealthCheckFailed, red.Error(err))
	}
	return nil
}

// supersededError ends a health wait because a newer revision arrived.
type supersededError struct{ revision string }

func (e *supersededError) Error() string {
	return "health checks abandoned: revision " + e.revision + " arrived and is applied next"
}

// cancelOnNewRevision cancels a health wait once the source moves on: the
// objects of the old revision may never become ready, and the new one may
// fix them.
func (r *StackReconciler) cancelOnNewRevision(ctx context.Context, source client.ObjectKey, attempted string, cancel context.CancelCauseFunc) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		var repo v1alpha1.GitRepository
		if err := r.Get(ctx, source, &repo); err != nil || repo.Status.Artifact == nil {
			continue
		}
		if rev := repo.Status.Artifact.Revision; rev != attempted {
			cancel(&supersededError{revision: rev})
			return
		}
	}
}

// variables gathers postBuild substitution values; values read from
// Secrets are registered with the redactor before anything is reported.
func (r *StackReconciler) variables(ctx context.Context, obj *v1alpha1.Stack) (map[string]string, *redact.Redactor, *failure) {
	vars, red, err := stackspec.Variables(ctx, r.Client, obj)
	if err != nil {
		return nil, red, failed(v1alpha1.ReasonVariablesNotFound, err.Error())
	}
	return vars, red, nil
}

// union returns a with the entries of b whose Key a lacks.
func union(a, b []apply.ObjMetadata) []apply.ObjMetadata {
	return append(append([]apply.ObjMetadata(nil), a...), apply.Diff(b, a)...)
}

func summarize(cs apply.ChangeSet) *v1alpha1.ChangeSummary {
	return &v1alpha1.ChangeSummary{
		Created:    cs.Count(apply.Created) + cs.Count(apply.Recreated),
		Configured: cs.Count(apply.Configured),
		Unchanged:  cs.Count(apply.Unchanged),
		Deleted:    cs.Count(apply.Deleted),
	}
}

func summary(s *v1alpha1.ChangeSummary) string {
	if s == nil {
		return "no changes"
	}
	return fmt.Sprintf("%d created, %d configured, %d unchanged, %d deleted", s.Created, s.Configured, s.Unchanged, s.Deleted)
}

package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
)

// waitPoll is how often waitReconciled reads the object it waits for.
const waitPoll = 250 * time.Millisecond

// ReconcileFailedError is a reconcile the agent finished with Ready False.
type ReconcileFailedError struct {
	// Object is Kind namespace/name.
	Object string
	// Reason and Message are those of the Ready condition.
	Reason, Message string
}

var _ error = (*ReconcileFailedError)(nil)

// Error says which object failed and the agent's reason.
func (e *ReconcileFailedError) Error() string {
	return fmt.Sprintf("%s failed: %s: %s", e.Object, e.Reason, e.Message)
}

// requestReconcile sets the reconcile-requested-at annotation of obj to a
// fresh value (the time, RFC 3339 with nanoseconds) with a merge patch, and
// returns the value to wait for.
func requestReconcile(ctx context.Context, c client.Client, obj client.Object) (string, error) {
	at := time.Now().UTC().Format(time.RFC3339Nano)
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[v1alpha1.ReconcileRequestAnnotation] = at
	obj.SetAnnotations(annotations)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return "", fmt.Errorf("requesting a reconcile of %s: %w", objectName(obj), err)
	}
	return at, nil
}

// waitReconciled waits until the agent has handled the reconcile request
// requestedAt on obj (a Stack or a GitRepository): status.lastHandledReconcileAt
// equals it and Ready is decided (True or False) for the current generation.
// It keeps obj up to date as it reads it and tells progress what it waits
// for. It returns nil when Ready is True, a *ReconcileFailedError when it is
// False, and an error wrapping ctx.Err() when ctx ends first; set the
// deadline on ctx.
func waitReconciled(ctx context.Context, c client.Client, obj client.Object, requestedAt string, progress *Progress) error {
	key, name := client.ObjectKeyFromObject(obj), objectName(obj)
	progress.Update("waiting for %s to reconcile", name)
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var readErr error // the last read's error, when it was not the deadline's
	for {
		err := c.Get(ctx, key, obj)
		switch {
		case ctx.Err() != nil:
			return notReconciledError(ctx, name, stateOf(obj), requestedAt, readErr)
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s was deleted while waiting for its reconcile", name)
		case err != nil && nearDeadline(ctx):
			// Refused for the coming deadline (client-go's rate limiter does
			// that early): it says nothing about the cluster.
		case err != nil:
			readErr = err
		default:
			readErr = nil
			st := stateOf(obj)
			if done, err := reconciled(st, requestedAt, name); done {
				return err
			}
			if st.Reconciling != nil && st.Reconciling.Message != "" {
				progress.Update("%s: %s", name, st.Reconciling.Message)
			}
		}
		select {
		case <-ctx.Done():
			return notReconciledError(ctx, name, stateOf(obj), requestedAt, readErr)
		case <-tick.C:
		}
	}
}

// reconciled says whether the state shows the request handled and Ready
// decided, and with what outcome.
func reconciled(st objectState, requestedAt, name string) (bool, error) {
	if st.LastHandled != requestedAt || st.ObservedGeneration != st.Generation {
		return false, nil
	}
	switch r := conditions.ReadinessOf(st); r.State {
	case conditions.StateReady:
		return true, nil
	case conditions.StateFailed, conditions.StateStalled:
		return true, &ReconcileFailedError{Object: name, Reason: r.Reason, Message: r.Message}
	}
	return false, nil
}

// notReconciledError says why a wait ended before the reconcile did, and
// what to look at.
func notReconciledError(ctx context.Context, name string, st objectState, requestedAt string, readErr error) error {
	var why string
	switch {
	case readErr != nil:
		why = "the last read failed: " + readErr.Error()
	case st.LastHandled != requestedAt:
		why = "the agent has not handled the request: is it running? (flotilla check)"
	case st.Reconciling != nil:
		why = "still reconciling: " + st.Reconciling.Message
	default:
		why = "Ready is not decided yet"
	}
	return &NotReconciledError{Object: name, Why: why, Err: ctx.Err()}
}

// NotReconciledError says that a wait for an object's reconcile ended
// before the reconcile did: its deadline passed, or it was cancelled.
type NotReconciledError struct {
	// Object names what the wait was for: Stack ns/name.
	Object string
	// Why is what the last read showed, and what to look at.
	Why string
	// Err is the context's error that ended the wait.
	Err error
}

var _ error = (*NotReconciledError)(nil)

// Error says that the wait timed out (or stopped), for what, and why.
func (e *NotReconciledError) Error() string {
	ended := "stopped waiting"
	if errors.Is(e.Err, context.DeadlineExceeded) {
		ended = "timed out waiting"
	}
	return fmt.Sprintf("%s for %s to reconcile; %s: %v", ended, e.Object, e.Why, e.Err)
}

// Unwrap returns the context's error.
func (e *NotReconciledError) Unwrap() error { return e.Err }

// objectName names a Stack or a GitRepository for messages: Stack ns/name.
func objectName(obj client.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	switch obj.(type) {
	case *v1alpha1.Stack:
		kind = v1alpha1.StackKind
	case *v1alpha1.GitRepository:
		kind = v1alpha1.GitRepositoryKind
	default:
		kind = cmp.Or(imageKindName(obj), notifyKindName(obj), kind)
	}
	return kind + " " + client.ObjectKeyFromObject(obj).String()
}

// nearDeadline says whether ctx ends within one poll.
func nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < waitPoll
}

// defaultWaitTimeout is how long reconcile and resume wait by default.
const defaultWaitTimeout = 5 * time.Minute

// timedOut turns an error that ctx's deadline caused before the wait
// reported it (reading the object, patching it) into the wait's message,
// naming --timeout; other errors pass through.
func timedOut(ctx context.Context, timeout time.Duration, what string, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	var failed *ReconcileFailedError
	var waited *NotReconciledError
	if errors.As(err, &failed) || errors.As(err, &waited) {
		return err
	}
	return fmt.Errorf("timed out waiting for %s to reconcile (--timeout %s); %w", what, timeout, err)
}

// displayName names an object for messages from the command line's words,
// as objectName does from the object: Stack ns/name.
func displayName(word, namespace, name string) string {
	kind, err := kindFor(word)
	if err != nil {
		return word + " " + namespace + "/" + name
	}
	return kind.Kind + " " + namespace + "/" + name
}

// waitAndReport waits for the reconcile at and prints its outcome.
func waitAndReport(ctx context.Context, c client.Client, kind objectKind, obj client.Object, at string, progress *Progress) error {
	if err := waitReconciled(ctx, c, obj, at, progress); err != nil {
		return err
	}
	progress.Println("✔ %s: %s %s", objectName(obj), reconcileVerb(kind.Kind), stateOf(obj).Revision)
	return nil
}

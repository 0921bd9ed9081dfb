package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NotReady is one object that did not become ready, with kstatus's verdict.
type NotReady struct {
	Object  ObjMetadata
	Status  string
	Message string
	// Pods says why the Pods of a Deployment, StatefulSet, DaemonSet,
	// ReplicaSet or Job do not run, one line per Pod; empty for other
	// kinds or when nothing in the Pods' status says.
	Pods []string
}

// HealthError lists the objects that were not ready when a wait ended:
// at its timeout, or earlier when kstatus called one of them Failed.
type HealthError struct {
	Timeout  time.Duration
	NotReady []NotReady
}

// failedStatus is kstatus's Failed, as NotReady.Status carries it.
var failedStatus = status.FailedStatus.String()

// Error implements error. A wait that ended on a failed object names what
// failed first; "after <timeout>" is only said of a wait that timed out.
func (e *HealthError) Error() string {
	var failed, pending []string
	for _, n := range e.NotReady {
		if n.Status == failedStatus {
			failed = append(failed, n.describe())
		} else {
			pending = append(pending, n.describe())
		}
	}
	sort.Strings(failed)
	sort.Strings(pending)
	if len(failed) == 0 {
		return fmt.Sprintf("%d object(s) not ready after %s: %s", len(pending), e.roundedTimeout(), strings.Join(pending, "; "))
	}
	msg := fmt.Sprintf("%d object(s) failed: %s", len(failed), strings.Join(failed, "; "))
	if len(pending) > 0 {
		msg += fmt.Sprintf("; %d more not ready yet: %s", len(pending), strings.Join(pending, "; "))
	}
	return msg
}

// roundedTimeout is the wait's timeout in whole seconds: a Stack waits for
// what is left of its timeout (39.976769865s), and whole seconds read
// better and say the same.
func (e *HealthError) roundedTimeout() time.Duration {
	if e.Timeout >= time.Second {
		return e.Timeout.Round(time.Second)
	}
	return e.Timeout
}

// describe renders one object: its identity, kstatus's verdict and what
// its Pods say.
func (n NotReady) describe() string {
	msg := n.Status
	if n.Message != "" {
		msg += ": " + n.Message
	}
	for _, p := range n.Pods {
		msg += "; " + p
	}
	return fmt.Sprintf("%s (%s)", n.Object, msg)
}

// Wait polls objs until kstatus calls every one Current, one Failed, or
// timeout passes. It returns a *HealthError naming each object not ready
// and, for the kinds that run Pods, what keeps their Pods from running.
func (m *Manager) Wait(ctx context.Context, objs []ObjMetadata, timeout time.Duration) error {
	poll := m.opts.Poll
	if poll <= 0 {
		poll = time.Second
	}
	return m.waitPolling(ctx, objs, timeout, poll)
}

// waitPolling is Wait with its own interval between polls.
func (m *Manager) waitPolling(ctx context.Context, objs []ObjMetadata, timeout, poll time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		notReady, failed := m.health(ctx, objs)
		if len(notReady) == 0 {
			return nil
		}
		if failed {
			m.explainPods(ctx, notReady)
			return &HealthError{Timeout: timeout, NotReady: notReady}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return m.timedOut(ctx, objs, timeout)
			}
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// timedOut reads objs once more when the wait's deadline has passed, with
// a short timeout of its own: the last poll's reads may have been cut by
// that deadline and say Unknown instead of why an object is not ready.
func (m *Manager) timedOut(ctx context.Context, objs []ObjMetadata, timeout time.Duration) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), podReadTimeout)
	defer cancel()
	notReady, _ := m.health(rctx, objs)
	if len(notReady) == 0 {
		return nil
	}
	m.explainPods(ctx, notReady)
	return &HealthError{Timeout: timeout, NotReady: notReady}
}

// health returns the objects not Current, and whether any has Failed.
func (m *Manager) health(ctx context.Context, objs []ObjMetadata) ([]NotReady, bool) {
	var notReady []NotReady
	failed := false
	for _, o := range objs {
		res := m.status(ctx, o)
		if res.Status == status.CurrentStatus {
			continue
		}
		failed = failed || res.Status == status.FailedStatus
		notReady = append(notReady, NotReady{Object: o, Status: res.Status.String(), Message: res.Message})
	}
	return notReady, failed
}

func (m *Manager) status(ctx context.Context, o ObjMetadata) *status.Result {
	live := o.Unstructured()
	err := m.client.Get(ctx, client.ObjectKeyFromObject(live), live)
	switch {
	case apierrors.IsNotFound(err):
		return &status.Result{Status: status.NotFoundStatus, Message: "not found"}
	case err != nil:
		return &status.Result{Status: status.UnknownStatus, Message: reasonOf(err)}
	}
	res, err := ComputeStatus(live)
	if err != nil {
		return &status.Result{Status: status.UnknownStatus, Message: err.Error()}
	}
	return res
}

// waitEstablished waits for the CRDs among plans to be Established.
func (m *Manager) waitEstablished(ctx context.Context, plans []*plan) error {
	var crds []ObjMetadata
	for _, p := range plans {
		if p.meta.Kind == "CustomResourceDefinition" {
			crds = append(crds, p.meta)
		}
	}
	if len(crds) == 0 {
		return nil
	}
	// A CRD is Established within milliseconds of its creation: a health
	// poll's interval (a second by default) would be most of the wait.
	if err := m.waitPolling(ctx, crds, m.opts.CRDTimeout, discoveryPoll(m.opts.Poll)); err != nil {
		return fmt.Errorf("waiting for CRDs to be established: %w", err)
	}
	return m.waitServed(ctx, definedKinds(plans))
}

// discoveryPoll is the interval between polls of what the API server
// settles within milliseconds (a new CRD Established, then served): the
// health poll's, at most 100ms.
func discoveryPoll(poll time.Duration) time.Duration {
	if poll <= 0 || poll > 100*time.Millisecond {
		return 100 * time.Millisecond
	}
	return poll
}

// waitServed waits until the API server's discovery serves every kind:
// a CRD is Established a moment before discovery lists it, and a dry-run
// in that moment fails with "no matches for kind".
func (m *Manager) waitServed(ctx context.Context, kinds map[schema.GroupKind]bool) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.CRDTimeout)
	defer cancel()
	poll := discoveryPoll(m.opts.Poll)
	for gk := range kinds {
		for {
			_, err := m.client.RESTMapper().RESTMapping(gk)
			if err == nil {
				break
			}
			if !meta.IsNoMatchError(err) {
				return fmt.Errorf("discovering %s: %w", gk, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for the API server to serve %s: %w", gk, err)
			case <-time.After(poll):
			}
		}
	}
	return nil
}

// Ready reports whether kstatus (with the per-kind rules) calls u Current.
func Ready(u *unstructured.Unstructured) bool {
	res, err := ComputeStatus(u)
	return err == nil && res.Status == status.CurrentStatus
}

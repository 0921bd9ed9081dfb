package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/conditions"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// pollInterval is how often the root Stack's status is read while waiting.
const pollInterval = time.Second

// wait waits until the root Stack is Ready at the branch's head commit, or
// Stalled, or the timeout passes.
func (r *run) wait(ctx context.Context) error {
	key := client.ObjectKey{Namespace: r.opts.Install.Namespace, Name: r.opts.StackName}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	var last string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		var st v1alpha1.Stack
		if err := r.c.Get(ctx, key, &st); err != nil {
			last = err.Error()
			return false, nil
		}
		done, msg, err := r.readiness(&st)
		if msg != last {
			r.progress("waiting for Stack " + key.String() + ": " + msg)
			last = msg
		}
		if done {
			r.result.Revision = st.Status.LastAppliedRevision
		}
		return done, err
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("the root Stack %s was not Ready after %s (last: %s); is the agent running? see `kubectl -n %s get pods` and `flotilla get stacks`",
			key, r.opts.Timeout, last, key.Namespace)
	}
	return err
}

// readiness says whether st is Ready at the head commit, what it is doing,
// and fails when it is Stalled.
func (r *run) readiness(st *v1alpha1.Stack) (bool, string, error) {
	readiness := conditions.ReadinessOf(st)
	switch {
	case readiness.State == conditions.StateStalled:
		return false, readiness.Message, fmt.Errorf("the root Stack is Stalled: %s", readiness.Message)
	case !stackspec.ReadyAt(st, ""):
		return false, readiness.Message, nil
	case r.result.Commit != "" && !strings.HasSuffix(st.Status.LastAppliedRevision, "sha1:"+r.result.Commit):
		return false, "Ready at " + st.Status.LastAppliedRevision + ", waiting for commit " + r.result.Commit[:12], nil
	}
	return true, "Ready at " + st.Status.LastAppliedRevision, nil
}

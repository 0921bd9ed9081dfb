package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// canaryPoll is how often --wait reads the Canary.
const canaryPoll = 500 * time.Millisecond

// CanaryRequestOptions configure `flotilla promote canary` and `flotilla
// abort canary`: a request to the agent through an annotation.
type CanaryRequestOptions struct {
	// Kube names the cluster and the namespace.
	Kube KubeFlags
	// Name of the Canary.
	Name string
	// Abort is true for abort, false for promote.
	Abort bool
	// Wait waits for the outcome: Succeeded or Failed.
	Wait bool
	// Timeout bounds the wait.
	Timeout time.Duration
	// Now stamps the request; nil is time.Now.
	Now func() time.Time
}

// newCanaryRequestCommand binds the flags shared by promote and abort.
func newCanaryRequestCommand(s Streams, abort bool, cmd *cobra.Command) *cobra.Command {
	o := &CanaryRequestOptions{Abort: abort, Wait: true, Timeout: defaultWaitTimeout}
	cmd.Args = cobra.ExactArgs(2)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !isCanariesWord(args[0]) {
			return fmt.Errorf("%s takes a canary: %s canary NAME", canaryRequestVerb(abort), canaryRequestVerb(abort))
		}
		o.Name = args[1]
		return o.Run(cmd.Context(), s)
	}
	o.Kube.BindOne(cmd.Flags())
	cmd.Flags().BoolVar(&o.Wait, "wait", o.Wait, "wait for the outcome (Succeeded or Failed)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait")
	return cmd
}

// canaryRequestVerb is the command a CanaryRequestOptions runs: abort or promote.
func canaryRequestVerb(abort bool) string {
	if abort {
		return "abort"
	}
	return "promote"
}

// Run sets the request annotation and, with Wait, waits for its outcome.
func (o *CanaryRequestOptions) Run(ctx context.Context, s Streams) error {
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	cn := &v1alpha1.Canary{}
	key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Name}
	if err := getNamed(ctx, c, v1alpha1.GroupVersion.WithKind(v1alpha1.CanaryKind), key, cn); err != nil {
		return err
	}
	if !inAnalysis(cn.Status.Phase) {
		return fmt.Errorf("canary %s is not under analysis (phase %s): there is nothing to %s", key, phaseName(cn.Status.Phase), canaryRequestVerb(o.Abort))
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now().UTC().Format(time.RFC3339Nano)
	if err := o.request(ctx, c, cn, at); err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "✔ %s requested for Canary %s (phase %s)\n", canaryRequestVerb(o.Abort), key, phaseName(cn.Status.Phase))
	if !o.Wait {
		return nil
	}
	return o.wait(ctx, c, key, at, s)
}

// request sets the annotation with a merge patch.
func (o *CanaryRequestOptions) request(ctx context.Context, c client.Client, cn *v1alpha1.Canary, at string) error {
	annotation := v1alpha1.CanaryPromoteAnnotation
	if o.Abort {
		annotation = v1alpha1.CanaryAbortAnnotation
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{annotation: at}}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, cn, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("setting %s on Canary %s/%s: %w", annotation, cn.Namespace, cn.Name, err)
	}
	return nil
}

// wait follows the Canary until the agent handled the request and the
// analysis ended; a promotion that ends Failed is an error.
func (o *CanaryRequestOptions) wait(ctx context.Context, c client.Client, key client.ObjectKey, at string, s Streams) error {
	var cn v1alpha1.Canary
	last := v1alpha1.CanaryPhase("")
	err := wait.PollUntilContextTimeout(ctx, canaryPoll, o.Timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, key, &cn); err != nil {
			return false, err
		}
		handled := cn.Status.HandledPromote
		if o.Abort {
			handled = cn.Status.HandledAbort
		}
		if handled != at {
			return false, nil
		}
		if cn.Status.Phase != last {
			last = cn.Status.Phase
			fmt.Fprintf(s.Out, "  phase %s\n", last)
		}
		return cn.Status.Phase == v1alpha1.CanaryPhaseSucceeded || cn.Status.Phase == v1alpha1.CanaryPhaseFailed, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for Canary %s to %s (last phase %s): %w", key, canaryRequestVerb(o.Abort), phaseName(last), err)
	}
	msg := canaryEntry(&cn).Message
	if cn.Status.Phase == v1alpha1.CanaryPhaseFailed && !o.Abort {
		return fmt.Errorf("canary %s failed: %s", key, msg)
	}
	_, err = fmt.Fprintf(s.Out, "✔ Canary %s %s: %s\n", key, strings.ToLower(string(cn.Status.Phase)), msg)
	return err
}

// inAnalysis reports whether a promote or abort request acts in phase.
func inAnalysis(phase v1alpha1.CanaryPhase) bool {
	switch phase {
	case v1alpha1.CanaryPhaseWaiting, v1alpha1.CanaryPhaseProgressing, v1alpha1.CanaryPhaseWaitingPromotion, v1alpha1.CanaryPhaseFrozen:
		return true
	}
	return false
}

func phaseName(p v1alpha1.CanaryPhase) string {
	if p == "" {
		return "none yet"
	}
	return string(p)
}

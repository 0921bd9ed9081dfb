package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// SuspendOptions configure `flotilla suspend` and `flotilla resume`.
type SuspendOptions struct {
	// Kube names the cluster and the namespace.
	Kube KubeFlags
	// Kind is source or stack (or an alias); Name the object's name.
	Kind, Name string
	// Suspend is true for suspend, false for resume.
	Suspend bool
	// Wait, on resume, requests a reconcile and waits for it.
	Wait bool
	// Timeout bounds the wait.
	Timeout time.Duration
}

// NewSuspendCommand returns `flotilla suspend`.
func NewSuspendCommand(s Streams) *cobra.Command {
	o := &SuspendOptions{Suspend: true}
	cmd := &cobra.Command{
		Use:   "suspend source|stack NAME",
		Short: "Stop the agent reconciling a source or a Stack",
		Long: "Set spec.suspend: the agent stops reconciling the object, and what it applied stays\n" +
			"as it is (a suspended Stack neither applies, prunes nor corrects drift).",
		Example:           "  flotilla suspend stack apps\n  flotilla suspend source fleet -n team-a",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kind, o.Name = args[0], args[1]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.BindOne(cmd.Flags())
	return cmd
}

// NewResumeCommand returns `flotilla resume`.
func NewResumeCommand(s Streams) *cobra.Command {
	o := &SuspendOptions{Wait: true, Timeout: defaultWaitTimeout}
	cmd := &cobra.Command{
		Use:   "resume source|stack NAME",
		Short: "Resume reconciling a suspended source or Stack, and wait for the outcome",
		Long: "Clear spec.suspend and request a reconcile in the same patch, then wait for it as\n" +
			"`flotilla reconcile` does (unless --wait=false).",
		Example:           "  flotilla resume stack apps\n  flotilla resume source fleet --wait=false",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kind, o.Name = args[0], args[1]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.BindOne(cmd.Flags())
	cmd.Flags().BoolVar(&o.Wait, "wait", o.Wait, "wait for the reconcile the resume requests")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the reconcile")
	return cmd
}

// Run patches spec.suspend and, on resume with Wait, waits for the
// reconcile.
func (o *SuspendOptions) Run(ctx context.Context, s Streams) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	err := o.run(ctx, s)
	if !o.Suspend {
		err = timedOut(ctx, o.Timeout, displayName(o.Kind, o.Kube.NamespaceOrDefault(), o.Name), err)
	}
	return err
}

func (o *SuspendOptions) run(ctx context.Context, s Streams) error {
	kind, c, obj, err := readNamed(ctx, &o.Kube, o.Kind, o.Name)
	if err != nil {
		return err
	}
	if err := refuseUnsuspendable(kind, obj); err != nil {
		return err
	}
	if o.Suspend {
		return suspend(ctx, c, obj, s)
	}
	return o.resume(ctx, c, kind, obj, s)
}

func suspend(ctx context.Context, c client.Client, obj client.Object, s Streams) error {
	if stateOf(obj).Suspended {
		_, err := fmt.Fprintf(s.Out, "✔ %s is already suspended\n", objectName(obj))
		return err
	}
	if err := patchSuspend(ctx, c, obj, true, ""); err != nil {
		return err
	}
	_, err := fmt.Fprintf(s.Out, "✔ %s suspended\n", objectName(obj))
	return err
}

func (o *SuspendOptions) resume(ctx context.Context, c client.Client, kind objectKind, obj client.Object, s Streams) error {
	wasSuspended := stateOf(obj).Suspended
	at := ""
	if o.Wait {
		at = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if err := patchSuspend(ctx, c, obj, false, at); err != nil {
		return err
	}
	progress := progressFor(s.Out)
	defer progress.Stop()
	if wasSuspended {
		progress.Println("✔ %s resumed", objectName(obj))
	} else {
		progress.Println("✔ %s is not suspended", objectName(obj))
	}
	if !o.Wait {
		return nil
	}
	return waitAndReport(ctx, c, kind, obj, at, progress)
}

// patchSuspend sets spec.suspend with a merge patch and, when requestedAt is
// not empty, the reconcile-requested-at annotation in the same patch. obj
// is updated with the result.
func patchSuspend(ctx context.Context, c client.Client, obj client.Object, suspend bool, requestedAt string) error {
	patch := map[string]any{"spec": map[string]any{"suspend": suspend}}
	if requestedAt != "" {
		patch["metadata"] = map[string]any{"annotations": map[string]string{v1alpha1.ReconcileRequestAnnotation: requestedAt}}
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("setting spec.suspend of %s to %t: %w", objectName(obj), suspend, err)
	}
	return nil
}

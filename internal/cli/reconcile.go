package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// ReconcileOptions configure `flotilla reconcile`.
type ReconcileOptions struct {
	// Kube names the cluster and the namespace.
	Kube KubeFlags
	// Kind is source or stack (or an alias); Name the object's name.
	Kind, Name string
	// WithSource reconciles a Stack's GitRepository first.
	WithSource bool
	// Timeout bounds the whole wait.
	Timeout time.Duration
	// ClearQuarantine empties an ImagePolicy's status.quarantinedTags first.
	ClearQuarantine bool
}

// NewReconcileCommand returns `flotilla reconcile`.
func NewReconcileCommand(s Streams) *cobra.Command {
	o := &ReconcileOptions{Timeout: defaultWaitTimeout}
	cmd := &cobra.Command{
		Use:   "reconcile source|stack|image repository|image policy|image update NAME",
		Short: "Ask the agent to reconcile a source or a Stack now, and wait for the outcome",
		Long: "Set the reconcile-requested-at annotation of the object to a fresh value and wait\n" +
			"until the agent has handled it: exit 0 when Ready is True, 1 with the agent's reason\n" +
			"when it is False or when --timeout passes first.",
		Example: "  flotilla reconcile source fleet\n" +
			"  flotilla reconcile stack apps --with-source   # fetch Git first, then apply\n" +
			"  flotilla reconcile stack apps -n team-a --timeout 10m\n" +
			"  flotilla reconcile image repository podinfo  # scan the registry now\n" +
			"  flotilla reconcile image policy podinfo --clear-quarantine  # allow the tags failed Canaries refused again",
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: completeNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args = imageArgs(args); len(args) != 2 {
				return fmt.Errorf("want KIND NAME, or image repository|policy|update NAME; got %d arguments", len(args))
			}
			o.Kind, o.Name = args[0], args[1]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.BindOne(cmd.Flags())
	cmd.Flags().BoolVar(&o.WithSource, "with-source", false, "reconcile the Stack's GitRepository first")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the reconcile")
	cmd.Flags().BoolVar(&o.ClearQuarantine, "clear-quarantine", false, "image policy only: lift the quarantine of the tags failed Canaries refused, so the policy may choose them again")
	return cmd
}

// Run requests the reconcile and waits for it, printing progress and the
// outcome on s.Out.
func (o *ReconcileOptions) Run(ctx context.Context, s Streams) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	return timedOut(ctx, o.Timeout, displayName(o.Kind, o.Kube.NamespaceOrDefault(), o.Name), o.run(ctx, s))
}

func (o *ReconcileOptions) run(ctx context.Context, s Streams) error {
	if k, err := kindFor(o.Kind); err == nil && o.WithSource && k.Kind != v1alpha1.StackKind {
		return fmt.Errorf("--with-source applies to a Stack (it reconciles the Stack's source first): drop it to reconcile source %s", o.Name)
	}
	kind, c, obj, err := readNamed(ctx, &o.Kube, o.Kind, o.Name)
	if err != nil {
		return err
	}
	if err := refuseSuspended(kind, obj, &o.Kube); err != nil {
		return err
	}
	progress := progressFor(s.Out)
	defer progress.Stop()
	if err := o.clearQuarantine(ctx, c, obj, progress); err != nil {
		return err
	}
	if st, ok := obj.(*v1alpha1.Stack); ok && o.WithSource {
		if err := o.reconcileSourceOf(ctx, c, st, progress); err != nil {
			return err
		}
	}
	return reconcileNow(ctx, c, kind, obj, progress)
}

// reconcileSourceOf reconciles the GitRepository a Stack renders from.
func (o *ReconcileOptions) reconcileSourceOf(ctx context.Context, c client.Client, st *v1alpha1.Stack, progress *Progress) error {
	kind, _ := kindFor(v1alpha1.GitRepositoryKind)
	ns, name := st.SourceKey()
	src := &v1alpha1.GitRepository{}
	if err := getNamed(ctx, c, kind.GVK(), client.ObjectKey{Namespace: ns, Name: name}, src); err != nil {
		return fmt.Errorf("the source of Stack %s: %w", client.ObjectKeyFromObject(st), err)
	}
	if err := refuseSuspended(kind, src, &o.Kube); err != nil {
		return err
	}
	return reconcileNow(ctx, c, kind, src, progress)
}

// refuseSuspended refuses to reconcile a suspended object, with the
// command that resumes it on the same cluster.
func refuseSuspended(kind objectKind, obj client.Object, kube *KubeFlags) error {
	if !stateOf(obj).Suspended {
		return nil
	}
	cmd := fmt.Sprintf("flotilla resume %s %s -n %s", kind.Arg, obj.GetName(), obj.GetNamespace())
	if args := kube.ClusterArgs(); args != "" {
		cmd += " " + args
	}
	return fmt.Errorf("%s is suspended: resume it first with `%s`", objectName(obj), cmd)
}

// reconcileNow requests a reconcile of obj and waits for it, printing the
// outcome. The caller has refused a suspended obj.
func reconcileNow(ctx context.Context, c client.Client, kind objectKind, obj client.Object, progress *Progress) error {
	at, err := requestReconcile(ctx, c, obj)
	if err != nil {
		return err
	}
	progress.Println("► reconcile of %s requested", objectName(obj))
	return waitAndReport(ctx, c, kind, obj, at, progress)
}

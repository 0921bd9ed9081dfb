package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// defaultWaitTimeout is how long reconcile and resume wait by default.
const defaultWaitTimeout = 5 * time.Minute

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
}

// NewReconcileCommand returns `flotilla reconcile`.
func NewReconcileCommand(s Streams) *cobra.Command {
	o := &ReconcileOptions{Timeout: defaultWaitTimeout}
	cmd := &cobra.Command{
		Use:   "reconcile source|stack NAME",
		Short: "Ask the agent to reconcile a source or a Stack now, and wait for the outcome",
		Long: "Set the reconcile-requested-at annotation of the object to a fresh value and wait\n" +
			"until the agent has handled it: exit 0 when Ready is True, 1 with the agent's reason\n" +
			"when it is False or when --timeout passes first.",
		Example: "  flotilla reconcile source fleet\n" +
			"  flotilla reconcile stack apps --with-source   # fetch Git first, then apply\n" +
			"  flotilla reconcile stack apps -n team-a --timeout 10m",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kind, o.Name = args[0], args[1]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.BindOne(cmd.Flags())
	cmd.Flags().BoolVar(&o.WithSource, "with-source", false, "reconcile the Stack's GitRepository first")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the reconcile")
	return cmd
}

// Run requests the reconcile and waits for it, printing progress and the
// outcome on s.Out.
func (o *ReconcileOptions) Run(ctx context.Context, s Streams) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	kind, c, obj, err := readNamed(ctx, &o.Kube, o.Kind, o.Name)
	if err != nil {
		return err
	}
	progress := progressFor(s.Out)
	defer progress.Stop()
	if st, ok := obj.(*v1alpha1.Stack); ok && o.WithSource {
		if err := reconcileSourceOf(ctx, c, st, progress); err != nil {
			return err
		}
	}
	return reconcileNow(ctx, c, kind, obj, progress)
}

// reconcileSourceOf reconciles the GitRepository a Stack renders from.
func reconcileSourceOf(ctx context.Context, c client.Client, st *v1alpha1.Stack, progress *Progress) error {
	kind, _ := kindFor(v1alpha1.GitRepositoryKind)
	ns, name := st.SourceKey()
	src := &v1alpha1.GitRepository{}
	if err := getNamed(ctx, c, kind.GVK(), client.ObjectKey{Namespace: ns, Name: name}, src); err != nil {
		return fmt.Errorf("the source of Stack %s: %w", client.ObjectKeyFromObject(st), err)
	}
	return reconcileNow(ctx, c, kind, src, progress)
}

// reconcileNow refuses a suspended object, else requests a reconcile of obj
// and waits for it, printing the outcome.
func reconcileNow(ctx context.Context, c client.Client, kind objectKind, obj client.Object, progress *Progress) error {
	if stateOf(obj).Suspended {
		return fmt.Errorf("%s is suspended: resume it first with `flotilla resume %s %s -n %s`",
			objectName(obj), kind.Arg, obj.GetName(), obj.GetNamespace())
	}
	at, err := requestReconcile(ctx, c, obj)
	if err != nil {
		return err
	}
	progress.Println("► reconcile of %s requested", objectName(obj))
	return waitAndReport(ctx, c, kind, obj, at, progress)
}

// waitAndReport waits for the reconcile at and prints its outcome.
func waitAndReport(ctx context.Context, c client.Client, kind objectKind, obj client.Object, at string, progress *Progress) error {
	if err := waitReconciled(ctx, c, obj, at, progress); err != nil {
		return err
	}
	verb := "applied"
	if kind.Kind == v1alpha1.GitRepositoryKind {
		verb = "fetched"
	}
	progress.Println("✔ %s: %s revision %s", objectName(obj), verb, stateOf(obj).Revision)
	return nil
}

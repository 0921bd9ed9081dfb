package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// Exit codes of `flotilla diff`, beyond ExitOK for "nothing differs".
const (
	// ExitDiffChanges: the cluster differs from the render.
	ExitDiffChanges = 1
	// ExitDiffFailed: the diff could not be made (render failed, dry-run
	// refused an object, the cluster could not be read).
	ExitDiffFailed = 2
)

// noteMaskedChange follows the header of an object that would change only
// in values the diff masks.
const noteMaskedChange = "@@ the change is only in values masked because they come from Secrets @@"

// diffContext is how many unchanged lines surround a change in a diff.
const diffContext = 3

// DiffOptions configure `flotilla diff stack NAME`.
type DiffOptions struct {
	// Kube names the cluster and the Stack's namespace.
	Kube KubeFlags
	// Stack is the Stack's name.
	Stack string
	// Path is the local checkout of the Stack's repository; "" is the
	// current directory.
	Path string
	// DecryptionKeys is the file of --decryption-keys; "" reads the
	// Stack's decryption Secret from the cluster.
	DecryptionKeys string
}

// NewDiffCommand returns `flotilla diff` and its `stack` subcommand.
func NewDiffCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what applying a local checkout would change in the cluster",
	}
	cmd.AddCommand(newDiffStackCommand(s))
	requireSubcommand(cmd, ExitDiffFailed)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitCodeError{Code: ExitDiffFailed, Err: err}
	})
	return cmd
}

func newDiffStackCommand(s Streams) *cobra.Command {
	o := &DiffOptions{}
	cmd := &cobra.Command{
		Use:     "stack NAME --path REPO_ROOT",
		Aliases: stackAliases(),
		Short:   "Diff a Stack's local render against the cluster with a server-side dry-run",
		Long: "Render the Stack from the local checkout at --path as the agent would, dry-run every\n" +
			"object against the cluster (server-side apply, field manager flotilla, the Stack's owner\n" +
			"labels), and print a unified diff per object that would change, new objects whole, and\n" +
			"the objects of the Stack's inventory that would be pruned. Secret values are masked:\n" +
			"a changed key shows as changed, never its value.\n\n" +
			"Exit codes: 0 nothing differs, 1 something differs, 2 the diff failed.",
		Example: "  flotilla diff stack apps --path ~/src/fleet\n" +
			"  flotilla diff stack apps -n team-a --path . || echo \"changes or failure: $?\"",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(cmd, args); err != nil {
				return &ExitCodeError{Code: ExitDiffFailed, Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stack = args[0]
			return o.Run(cmd.Context(), s)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitCodeError{Code: ExitDiffFailed, Err: err}
	})
	o.Kube.Bind(cmd.Flags())
	_ = cmd.Flags().MarkHidden("all-namespaces")
	cmd.Flags().StringVar(&o.Path, "path", o.Path, "root of a local checkout of the Stack's repository, or the Stack's own directory in it as flux diff --path takes it (default the current directory)")
	cmd.Flags().StringVar(&o.DecryptionKeys, "decryption-keys", o.DecryptionKeys, decryptionKeysUsage+" (default: the Stack's decryption Secret, read from the cluster)")
	return cmd
}

// Run prints the diff. It returns nil when nothing differs, an
// *ExitCodeError with ExitDiffChanges when something does, and one with
// ExitDiffFailed when the diff could not be made.
func (o *DiffOptions) Run(ctx context.Context, s Streams) error {
	d, err := o.compute(ctx)
	if err != nil {
		return &ExitCodeError{Code: ExitDiffFailed, Err: err}
	}
	if d.suspended {
		ns := o.Kube.NamespaceOrDefault()
		fmt.Fprintf(s.ErrOut, "warning: Stack %s/%s is suspended: the agent applies none of this until it is resumed (flotilla resume stack %s -n %s)\n",
			ns, o.Stack, o.Stack, ns)
	}
	if err := d.print(s.Out, paletteFor(s.Out)); err != nil {
		return &ExitCodeError{Code: ExitDiffFailed, Err: err}
	}
	if d.changes() > 0 {
		return &ExitCodeError{Code: ExitDiffChanges}
	}
	return nil
}

// stackDiff is what applying a Stack's local render would do.
type stackDiff struct {
	// objects are the rendered objects, in render order.
	objects []apply.ObjectDiff
	// prune are the inventory's objects the render no longer has.
	prune []apply.ObjectDiff
	// pruneHeldBack is the agent's refusal when the prune cap holds the
	// candidates back; "" otherwise.
	pruneHeldBack string
	// red knows the values substituted from Secrets.
	red *redact.Redactor
	// suspended is the Stack's spec.suspend: the agent applies nothing
	// while it is set.
	suspended bool
}

func (o *DiffOptions) compute(ctx context.Context) (*stackDiff, error) {
	c, err := o.Kube.Client()
	if err != nil {
		return nil, err
	}
	st, err := readStack(ctx, c, o.Kube, o.Stack)
	if err != nil {
		return nil, err
	}
	objs, red, err := renderStack(ctx, c, st, o.Path, o.DecryptionKeys)
	if err != nil {
		return nil, err
	}
	if err := stackspec.CheckEmptyRender(st, len(objs), "the local checkout "+cmp.Or(o.Path, ".")); err != nil {
		return nil, fmt.Errorf("diff of Stack %s/%s: %w", st.Namespace, st.Name, err)
	}
	mgr := apply.NewManager(c, stackspec.ApplyOptions(apply.DefaultOptions(), st))
	d := &stackDiff{red: red, suspended: st.Spec.Suspend}
	if d.objects, err = mgr.Diff(ctx, objs); err != nil {
		return nil, &redactedError{msg: fmt.Sprintf("Stack %s/%s: %s", st.Namespace, st.Name, red.Error(err)), err: err}
	}
	if d.prune, d.pruneHeldBack, err = pruneCandidates(ctx, mgr, st, objs); err != nil {
		return nil, &redactedError{msg: red.Error(err), err: err}
	}
	return d, nil
}

// pruneCandidates are the objects of the Stack's inventory the render no
// longer has, as Prune would treat them; none unless the Stack prunes.
// When the Stack's prune cap holds them back, as the agent would, each is
// Skipped and heldBack is the agent's refusal.
func pruneCandidates(ctx context.Context, mgr *apply.Manager, st *v1alpha1.Stack, objs []*unstructured.Unstructured) (_ []apply.ObjectDiff, heldBack string, _ error) {
	if !st.Spec.Prune {
		return nil, "", nil
	}
	current := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		current = append(current, apply.MetadataOf(o))
	}
	inventory := stackspec.FromInventory(st.Status.Inventory)
	stale := apply.Diff(inventory, current)
	cands, err := mgr.DiffPrune(ctx, stale)
	if pc := stackspec.PruneCapOf(st); err == nil && pc.HoldsBack(len(stale), len(inventory)) {
		for i := range cands {
			if cands[i].Action == apply.Deleted {
				cands[i].Action, cands[i].Note = apply.Skipped, fmt.Sprintf("held back by maxPrunePercent %d%%", pc.Percent)
			}
		}
		heldBack = pc.Refusal(len(stale), len(inventory))
	}
	return cands, heldBack, err
}

// count returns how many objects would be created, changed and pruned.
func (d *stackDiff) count() (create, change, prune int) {
	for _, o := range d.objects {
		switch o.Action {
		case apply.Created:
			create++
		case apply.Configured, apply.Recreated:
			change++
		}
	}
	for _, o := range d.prune {
		if o.Action == apply.Deleted {
			prune++
		}
	}
	return create, change, prune
}

func (d *stackDiff) changes() int {
	create, change, prune := d.count()
	return create + change + prune
}

// print writes a unified diff per changed object, the prune candidates
// and the summary line.
func (d *stackDiff) print(w io.Writer, p palette) error {
	for _, o := range d.objects {
		if o.Action == apply.Unchanged {
			continue
		}
		text, err := unifiedDiff(o, d.red)
		if err != nil {
			return err
		}
		if text == "" {
			// Counted as a change, but equal once masked: say so, so that
			// every change the summary counts is shown.
			from, to := diffHeaders(o)
			text = "--- " + from + "\n+++ " + to + "\n" + noteMaskedChange + "\n"
		}
		fmt.Fprint(w, colourDiff(text, p))
	}
	for _, o := range d.prune {
		if o.Action == apply.Deleted {
			fmt.Fprintln(w, p.Red("would be pruned: "+o.Object.String()))
		} else {
			fmt.Fprintf(w, "would not be pruned: %s (%s)\n", o.Object, o.Note)
		}
	}
	if d.pruneHeldBack != "" {
		fmt.Fprintln(w, p.Yellow("prune held back, as the agent would: "+d.pruneHeldBack))
	}
	create, change, prune := d.count()
	_, err := fmt.Fprintf(w, "%d to create, %d to change, %d to prune\n", create, change, prune)
	return err
}

// unifiedDiff is the diff of one object's live and merged versions as
// YAML, Secret values masked (a changed key shows as changed) and values
// substituted from Secrets masked wherever they appear; "" when the masked
// versions are equal.
func unifiedDiff(o apply.ObjectDiff, red *redact.Redactor) (string, error) {
	live, merged := redact.MaskSecretPair(o.Live, o.Merged)
	a, err := yamlLines(redactStrings(live, red))
	if err != nil {
		return "", err
	}
	b, err := yamlLines(redactStrings(merged, red))
	if err != nil {
		return "", err
	}
	from, to := diffHeaders(o)
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: a, B: b, FromFile: from, ToFile: to, Context: diffContext})
}

// diffHeaders are the names of the two sides of one object's diff.
func diffHeaders(o apply.ObjectDiff) (from, to string) {
	from, to = "live "+o.Object.String(), "merged "+o.Object.String()
	if o.Live == nil {
		from += " (absent: would be created)"
	}
	if o.Note != "" {
		to += " (" + o.Note + ")"
	}
	return from, to
}

// yamlLines is u as YAML, one string per line with its newline; nil for nil.
func yamlLines(u *unstructured.Unstructured) ([]string, error) {
	if u == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines, nil
}

// colourDiff paints a unified diff's removed lines red and added lines
// green; off a terminal it comes back as it is.
func colourDiff(text string, p palette) string {
	if !p.on {
		return text
	}
	var b strings.Builder
	for line := range strings.Lines(text) {
		body := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(body, "---"), strings.HasPrefix(body, "+++"):
			body = p.Bold(body)
		case strings.HasPrefix(body, "@@"):
			body = p.Dim(body)
		case strings.HasPrefix(body, "-"):
			body = p.Red(body)
		case strings.HasPrefix(body, "+"):
			body = p.Green(body)
		}
		b.WriteString(body + "\n")
	}
	return b.String()
}

package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// Tree glyphs, as `tree` draws them.
const (
	glyphBranch = "├── "
	glyphLast   = "└── "
	glyphPipe   = "│   "
	glyphSpace  = "    "
)

// Notes on tree nodes that are not plain objects.
const (
	// noteNotInInventory marks a namespace that groups objects of the
	// inventory without being in it itself.
	noteNotInInventory = "not in the inventory"
	// noteCycle marks a Stack already expanded higher in the tree.
	noteCycle = "already shown above (the inventories form a cycle)"
)

// TreeOptions configure `flotilla tree stack NAME`.
type TreeOptions struct {
	// Kube names the cluster and the Stack's namespace.
	Kube KubeFlags
	// Stack is the root Stack's name.
	Stack string
	// Output is table (the drawn tree), json or yaml.
	Output string
}

// TreeNode is one object of a Stack's tree with its health; a Stack's
// children are its inventory, a namespace's its objects.
type TreeNode struct {
	// APIVersion, Kind, Namespace and Name identify the object.
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Status is the verdict on the live object (Current, InProgress,
	// Failed, Terminating, NotFound, Unknown, or Suspended for a Stack or
	// GitRepository): kstatus's, but for Flotilla's own kinds their Ready
	// condition; "" for a namespace that only groups objects of the
	// inventory.
	Status string `json:"status,omitempty"`
	// Message says why the object is not Current, or what the node is.
	Message string `json:"message,omitempty"`
	// Children are the objects under this one.
	Children []*TreeNode `json:"children,omitempty"`
}

// NewTreeCommand returns `flotilla tree` and its `stack` subcommand.
func NewTreeCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tree",
		Short: "Show what a Stack owns as a tree, with each object's health",
	}
	o := &TreeOptions{Output: OutputTable}
	stack := &cobra.Command{
		Use:     "stack NAME",
		Aliases: stackAliases(),
		Short:   "Show a Stack's inventory as a tree, with each object's health",
		Long: "Read the Stack's status.inventory and show it as a tree: the cluster-scoped objects,\n" +
			"then each namespace with its objects, sorted by kind and name, each with its health as\n" +
			"kstatus computes it from the live object. Stacks in the inventory are expanded in turn.\n" +
			"For Stacks and GitRepositories the health is their Ready condition, as `flotilla get`\n" +
			"shows it: True is Current, False is Failed, otherwise InProgress, or Suspended when\n" +
			"spec.suspend is set.",
		Example: "  flotilla tree stack cluster\n" +
			"  flotilla tree stack apps -n team-a -o json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stack = args[0]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.Bind(stack.Flags())
	_ = stack.Flags().MarkHidden("all-namespaces")
	stack.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	cmd.AddCommand(stack)
	requireSubcommand(cmd, ExitError)
	return cmd
}

// Run reads the Stack and the objects of its inventory and prints the tree.
func (o *TreeOptions) Run(ctx context.Context, s Streams) error {
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	if o.Kube.AllNamespaces {
		return fmt.Errorf("a Stack is named in one namespace: use -n instead of --all-namespaces")
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	gvk := v1alpha1.GroupVersion.WithKind(v1alpha1.StackKind)
	root := &unstructured.Unstructured{}
	root.SetGroupVersionKind(gvk)
	key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Stack}
	if err := getNamed(ctx, c, gvk, key, root); err != nil {
		return err
	}
	tree := newTreeBuilder(liveGetter(c)).root(ctx, root)
	if o.Output == OutputTable {
		return printTree(s.Out, tree, paletteFor(s.Out))
	}
	return printData(s.Out, o.Output, tree)
}

// objectGetter reads one live object.
type objectGetter func(ctx context.Context, m apply.ObjMetadata) (*unstructured.Unstructured, error)

// liveGetter reads objects from the cluster.
func liveGetter(c client.Client) objectGetter {
	return func(ctx context.Context, m apply.ObjMetadata) (*unstructured.Unstructured, error) {
		u := m.Unstructured()
		return u, c.Get(ctx, client.ObjectKeyFromObject(u), u)
	}
}

// treeBuilder builds the tree of a Stack, expanding each Stack once.
type treeBuilder struct {
	get  objectGetter
	seen map[string]bool
}

func newTreeBuilder(get objectGetter) *treeBuilder {
	return &treeBuilder{get: get, seen: map[string]bool{}}
}

// root returns the tree of the Stack u.
func (b *treeBuilder) root(ctx context.Context, u *unstructured.Unstructured) *TreeNode {
	m := apply.MetadataOf(u)
	n := newTreeNode(m)
	n.Status, n.Message = health(u, nil)
	b.expand(ctx, n, m, u)
	return n
}

// node returns the node of one inventory entry, expanded when it is a Stack.
func (b *treeBuilder) node(ctx context.Context, m apply.ObjMetadata) *TreeNode {
	n := newTreeNode(m)
	u, err := b.get(ctx, m)
	n.Status, n.Message = health(u, err)
	if err == nil {
		b.expand(ctx, n, m, u)
	}
	return n
}

// expand adds a Stack's inventory under its node, once per Stack.
func (b *treeBuilder) expand(ctx context.Context, n *TreeNode, m apply.ObjMetadata, u *unstructured.Unstructured) {
	if m.Group != v1alpha1.GroupVersion.Group || m.Kind != v1alpha1.StackKind {
		return
	}
	key := m.Namespace + "/" + m.Name
	if b.seen[key] {
		n.Message = noteCycle
		return
	}
	b.seen[key] = true
	var st v1alpha1.Stack
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &st); err != nil {
		n.Message = "reading its inventory: " + err.Error()
		return
	}
	n.Children = b.children(ctx, stackspec.FromInventory(st.Status.Inventory))
}

// children lays out an inventory: cluster-scoped objects first, then each
// namespace with its objects, everything sorted by kind and name. A
// Namespace of the inventory holds its objects; a namespace that is not in
// it gets a node of its own.
func (b *treeBuilder) children(ctx context.Context, inv []apply.ObjMetadata) []*TreeNode {
	inv = slices.Clone(inv)
	slices.SortFunc(inv, func(x, y apply.ObjMetadata) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Group, y.Group))
	})
	byNamespace := map[string][]apply.ObjMetadata{}
	for _, m := range inv {
		if m.Namespace != "" {
			byNamespace[m.Namespace] = append(byNamespace[m.Namespace], m)
		}
	}
	groups := map[string]*TreeNode{}
	var out []*TreeNode
	for _, m := range inv {
		if m.Namespace != "" {
			continue
		}
		n := b.node(ctx, m)
		if _, has := byNamespace[m.Name]; has && m.Group == "" && m.Kind == "Namespace" {
			groups[m.Name] = n
			continue
		}
		out = append(out, n)
	}
	for _, ns := range slices.Sorted(maps.Keys(byNamespace)) {
		g := groups[ns]
		if g == nil {
			g = &TreeNode{APIVersion: "v1", Kind: "Namespace", Name: ns, Message: noteNotInInventory}
		}
		for _, m := range byNamespace[ns] {
			g.Children = append(g.Children, b.node(ctx, m))
		}
		out = append(out, g)
	}
	return out
}

func newTreeNode(m apply.ObjMetadata) *TreeNode {
	return &TreeNode{APIVersion: m.GroupVersionKind().GroupVersion().String(), Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
}

// health is the verdict on a live object and, unless it is Current, its
// message: for Flotilla's own kinds the one `flotilla get` shows (see
// ownHealth), for every other kind kstatus's.
func health(u *unstructured.Unstructured, err error) (string, string) {
	if err == nil {
		if rule, ok := ownHealth[u.GroupVersionKind().GroupKind()]; ok {
			return rule(u)
		}
	}
	return apply.Health(u, err)
}

// statusSuspended is the health of a suspended Flotilla object whose Ready
// condition says neither True nor False.
const statusSuspended = "Suspended"

// ownHealth holds the health rule of Flotilla's own kinds: their Ready
// condition and spec.suspend, as `flotilla get` reads them, where kstatus
// would read a Ready=False object as still in progress.
var ownHealth = map[schema.GroupKind]func(u *unstructured.Unstructured) (string, string){
	{Group: v1alpha1.GroupVersion.Group, Kind: v1alpha1.StackKind}:         readyHealth,
	{Group: v1alpha1.GroupVersion.Group, Kind: v1alpha1.GitRepositoryKind}: readyHealth,
}

// readyHealth maps a Ready condition onto the tree's words: True is
// Current, False is Failed with its message, Unknown or absent is
// InProgress, or Suspended when spec.suspend is set.
func readyHealth(u *unstructured.Unstructured) (string, string) {
	ready, reason, message := readyCondition(u)
	suspended, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
	switch {
	case ready == string(metav1.ConditionTrue) && suspended:
		return status.CurrentStatus.String(), "suspended"
	case ready == string(metav1.ConditionTrue):
		return status.CurrentStatus.String(), ""
	case ready == string(metav1.ConditionFalse):
		return status.FailedStatus.String(), cmp.Or(message, reason)
	case suspended:
		return statusSuspended, cmp.Or(message, "suspended before it was reconciled")
	}
	return status.InProgressStatus.String(), cmp.Or(message, "not reconciled yet")
}

// readyCondition returns the status, reason and message of u's Ready
// condition; "" for each when it has none.
func readyCondition(u *unstructured.Unstructured) (string, string, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != "Ready" {
			continue
		}
		st, _ := m["status"].(string)
		reason, _ := m["reason"].(string)
		message, _ := m["message"].(string)
		return st, reason, message
	}
	return "", "", ""
}

// printTree draws the tree, one object per line with its health.
func printTree(w io.Writer, root *TreeNode, p palette) error {
	var buf bytes.Buffer
	t := newTable(&buf)
	label := root.Kind + "/" + root.Name
	if root.Namespace != "" {
		label = root.Kind + "/" + root.Namespace + "/" + root.Name
	}
	writeTreeLine(t, label, root, p)
	writeTreeChildren(t, "", root.Children, p)
	if err := t.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func writeTreeChildren(w io.Writer, prefix string, nodes []*TreeNode, p palette) {
	for i, n := range nodes {
		glyph, next := glyphBranch, glyphPipe
		if i == len(nodes)-1 {
			glyph, next = glyphLast, glyphSpace
		}
		writeTreeLine(w, prefix+glyph+n.Kind+"/"+n.Name, n, p)
		writeTreeChildren(w, prefix+next, n.Children, p)
	}
}

func writeTreeLine(w io.Writer, label string, n *TreeNode, p palette) {
	msg := ""
	if n.Message != "" {
		msg = truncate(cell(n.Message), maxMessageWidth)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\n", cell(label), paintStatus(p, n.Status), msg)
}

// paintStatus colours a verdict: Current green, InProgress, Terminating
// and Suspended yellow, the rest red; "" stays empty.
func paintStatus(p palette, s string) string {
	switch s {
	case "":
		return ""
	case status.CurrentStatus.String():
		return p.Green(s)
	case status.InProgressStatus.String(), status.TerminatingStatus.String(), statusSuspended:
		return p.Yellow(s)
	default:
		return p.Red(s)
	}
}

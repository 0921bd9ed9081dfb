package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// clusterTimeout bounds how long get waits for one cluster of several, so
// an unreachable one does not hold back the table of the others.
const clusterTimeout = 30 * time.Second

// GetOptions configure `flotilla get`.
type GetOptions struct {
	// Kube names the cluster and the namespace, or every namespace. Its
	// Context may be a comma-separated list of contexts.
	Kube KubeFlags
	// AllContexts queries every context of the kubeconfig.
	AllContexts bool
	// Kind is what to list: source or stack (or an alias).
	Kind string
	// Name, when set, limits the listing to the object of that name.
	Name string
	// Output is table, json or yaml.
	Output string
	// Now is the clock the AGE column is measured against; nil is time.Now.
	Now func() time.Time
	// Explain is --explain, for `get images policy NAME`.
	Explain bool
}

// GetEntry is one row of `flotilla get`.
type GetEntry struct {
	// Cluster is the kubeconfig context the object was read from.
	Cluster string `json:"cluster"`
	// Kind is Stack or GitRepository.
	Kind string `json:"kind"`
	// Namespace and Name of the object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ready is the status of the Ready condition: True, False or Unknown.
	Ready string `json:"ready"`
	// Reason and Message are those of the Ready condition.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended"`
	// Revision is the applied revision (Stack) or the artifact's (source), in full.
	Revision string `json:"revision"`
	// Path is a Receiver's webhook path, to give the sender.
	Path string `json:"path,omitempty"`
	// Created is the object's creation time, in UTC.
	Created time.Time `json:"created"`
}

// NewGetCommand returns `flotilla get`.
func NewGetCommand(s Streams) *cobra.Command {
	o := &GetOptions{Output: OutputTable, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "get sources|stacks|images|canaries|providers|alerts|receivers [NAME]",
		Short: "Show the state of sources or Stacks, across one cluster or many",
		Long: "Show whether sources or Stacks are Ready, which revision they run and why not.\n" +
			"With --context a,b or --all-contexts the rows of every cluster are in one table,\n" +
			"with a CLUSTER column; a cluster that cannot be read is reported on stderr and\n" +
			"makes the command exit 1 after the others are printed.",
		Example: "  flotilla get stacks                       # Stacks in flotilla-system\n" +
			"  flotilla get sources -A                   # every namespace\n" +
			"  flotilla get stacks --all-contexts -A     # the whole fleet\n" +
			"  flotilla get stack apps --context prod-us,prod-eu -o json\n" +
			"  flotilla get images -A                    # image repositories, policies, updates\n" +
			"  flotilla get images policy podinfo --explain\n" +
			"  flotilla get canaries -A                  # phase, weight, failed checks",
		Args:              cobra.RangeArgs(1, 3),
		ValidArgsFunction: completeNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isImagesWord(args[0]) {
				return o.runImages(cmd.Context(), s, args[1:])
			}
			if isCanariesWord(args[0]) {
				return o.runCanaries(cmd.Context(), s, args[1:])
			}
			if len(args) > 2 || o.Explain {
				return fmt.Errorf("get %s takes at most one NAME and no --explain", args[0])
			}
			o.Kind = args[0]
			if len(args) == 2 {
				o.Name = args[1]
			}
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.Bind(cmd.Flags())
	cmd.Flags().Lookup("context").Usage = "kubeconfig context to use instead of the current one; a comma-separated list for several clusters"
	cmd.Flags().BoolVar(&o.AllContexts, "all-contexts", false, "every context of the kubeconfig, one CLUSTER column")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	cmd.Flags().BoolVar(&o.Explain, "explain", false, "with images policy NAME: how the policy chose its tag")
	return cmd
}

// Run reads the objects from every cluster in scope and prints them. Clusters
// that fail are reported on s.ErrOut; the error is then an *ExitCodeError.
// A NAME no reachable cluster has is a not-found error, as with one cluster.
func (o *GetOptions) Run(ctx context.Context, s Streams) error {
	kind, err := o.validate()
	if err != nil {
		return err
	}
	contexts, multi, err := o.contexts()
	if err != nil {
		return err
	}
	res := o.collect(ctx, kind, contexts, multi)
	if len(res.errs) > 0 && !multi {
		return res.errs[0]
	}
	notFound := res.notFoundEverywhere(kind, o.Name, o.Kube.NamespaceOrDefault())
	if len(res.errs) < len(contexts) && notFound == nil { // a fleet that could not be read at all is not empty
		if err := o.print(s.Out, kind, res.entries, multi); err != nil {
			return err
		}
	}
	for _, e := range res.errs {
		fmt.Fprintln(s.ErrOut, "Error:", e)
	}
	switch {
	case notFound != nil:
		return notFound
	case len(res.errs) > 0:
		return &ExitCodeError{Code: ExitError}
	}
	return nil
}

func (o *GetOptions) validate() (objectKind, error) {
	if o.Output == "" {
		o.Output = OutputTable
	}
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return objectKind{}, err
	}
	if o.Name != "" && o.Kube.AllNamespaces {
		return objectKind{}, errNameWithAllNamespaces
	}
	if o.AllContexts && o.Kube.Context != "" {
		return objectKind{}, errors.New("--context and --all-contexts do not go together: use one")
	}
	return kindFor(o.Kind)
}

// contexts returns the kubeconfig contexts to read and whether the user asked
// for several (then the table has a CLUSTER column).
func (o *GetOptions) contexts() ([]string, bool, error) {
	if !o.AllContexts && !strings.Contains(o.Kube.Context, ",") {
		if o.Kube.Context != "" {
			return []string{o.Kube.Context}, false, nil
		}
		raw, err := rawKubeconfig(o.Kube.Kubeconfig)
		if err != nil {
			return nil, false, err
		}
		return []string{raw.CurrentContext}, false, nil
	}
	if o.AllContexts {
		names, err := allContexts(o.Kube.Kubeconfig)
		if err != nil {
			return nil, false, fmt.Errorf("--all-contexts: %w", err)
		}
		return names, true, nil
	}
	return splitContexts(o.Kube.Context), true, nil
}

// collected is what get read from its contexts.
type collected struct {
	// entries are the rows of every context, sorted; never nil.
	entries []GetEntry
	// errs has one error per context that failed, in the order of contexts.
	errs []error
	// searched are the contexts that were read, and answered NotFound for
	// a NAME; missing holds their errors, with the suggestion of each.
	searched []string
	missing  []*NotFoundError
}

// collect reads every context in parallel.
func (o *GetOptions) collect(ctx context.Context, kind objectKind, contexts []string, multi bool) collected {
	rows := make([][]GetEntry, len(contexts))
	errs := make([]error, len(contexts))
	var wg sync.WaitGroup
	for i, name := range contexts {
		wg.Go(func() {
			rows[i], errs[i] = o.read(ctx, kind, name)
			var nf *NotFoundError
			if errs[i] != nil && multi && !errors.As(errs[i], &nf) {
				errs[i] = fmt.Errorf("context %s: %w", name, errs[i])
			}
		})
	}
	wg.Wait()
	res := collected{entries: slices.Concat(rows...)}
	if res.entries == nil {
		res.entries = []GetEntry{} // -o json prints [], not null
	}
	sortGetEntries(res.entries)
	for i, err := range errs {
		var nf *NotFoundError
		switch {
		case multi && errors.As(err, &nf):
			res.searched, res.missing = append(res.searched, contexts[i]), append(res.missing, nf)
		case err != nil:
			res.errs = append(res.errs, err)
		}
	}
	return res
}

// notFoundEverywhere is the error for a NAME that no reachable context
// has, naming the contexts searched and the closest name any of them has;
// nil when some context has it, or none could be read.
func (r collected) notFoundEverywhere(kind objectKind, name, namespace string) error {
	if name == "" || len(r.entries) > 0 || len(r.searched) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s %s/%s not found in context %s", kind.Kind, namespace, name, strings.Join(r.searched, ", "))
	if len(r.searched) > 1 {
		msg = fmt.Sprintf("%s %s/%s not found in any of the contexts %s", kind.Kind, namespace, name, strings.Join(r.searched, ", "))
	}
	for i, nf := range r.missing {
		if nf.Suggestion != "" {
			return fmt.Errorf("%s; did you mean %s (in context %s)?", msg, nf.Suggestion, r.searched[i])
		}
	}
	return errors.New(msg)
}

// sortGetEntries sorts rows by cluster, then namespace, then name.
func sortGetEntries(entries []GetEntry) {
	slices.SortFunc(entries, func(a, b GetEntry) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

// read lists the objects of one context. A named object missing from one
// cluster of several is a *NotFoundError without rows: the fleet need not
// run it everywhere, but get fails when no cluster has it.
func (o *GetOptions) read(ctx context.Context, kind objectKind, cluster string) ([]GetEntry, error) {
	kube := o.Kube
	kube.Context = cluster
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	c, err := kube.Client()
	if err != nil {
		return nil, err
	}
	objs, err := listKind(ctx, c, kind, &kube, o.Name)
	if err != nil {
		return nil, err
	}
	entries := make([]GetEntry, 0, len(objs))
	for _, obj := range objs {
		entries = append(entries, getEntry(cluster, kind, obj))
	}
	return entries, nil
}

// listKind returns the object named name, or every object of kind in the
// scope of kube when name is empty.
func listKind(ctx context.Context, c client.Client, kind objectKind, kube *KubeFlags, name string) ([]client.Object, error) {
	if name != "" {
		obj := kind.newObject()
		key := client.ObjectKey{Namespace: kube.NamespaceOrDefault(), Name: name}
		if err := getNamed(ctx, c, kind.GVK(), key, obj); err != nil {
			return nil, err
		}
		return []client.Object{obj}, nil
	}
	list := kind.newList()
	if err := c.List(ctx, list, kube.ListOptions()...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", kind.Plural, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	objs := make([]client.Object, 0, len(items))
	for _, item := range items {
		objs = append(objs, item.(client.Object))
	}
	return objs, nil
}

func getEntry(cluster string, kind objectKind, obj client.Object) GetEntry {
	st := stateOf(obj)
	e := GetEntry{
		Cluster: cluster, Kind: kind.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName(),
		Ready: string(metav1.ConditionUnknown), Suspended: st.Suspended, Revision: st.Revision, Path: st.Path,
		Created: obj.GetCreationTimestamp().UTC(),
	}
	if st.Ready != nil {
		e.Ready, e.Reason, e.Message = string(st.Ready.Status), st.Ready.Reason, st.Ready.Message
	}
	return e
}

func (o *GetOptions) print(w io.Writer, kind objectKind, entries []GetEntry, multi bool) error {
	if o.Output != OutputTable {
		return printData(w, o.Output, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintf(w, "no %s found\n", kind.Plural)
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return printGetTable(w, paletteFor(w), entries, getColumns{Cluster: multi, Namespace: o.Kube.AllNamespaces}, now())
}

// getColumns are the optional columns of the get table.
type getColumns struct{ Cluster, Namespace bool }

func printGetTable(w io.Writer, p palette, entries []GetEntry, cols getColumns, now time.Time) error {
	t := newTable(w)
	header := []string{"NAME", p.paint(sameWidthCode, "READY"), "SUSPENDED", revisionHeader(entries), "AGE", "MESSAGE"}
	if cols.Namespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if cols.Cluster {
		header = append([]string{"CLUSTER"}, header...)
	}
	fmt.Fprintln(t, strings.Join(header, "\t"))
	for _, e := range entries {
		row := []string{cell(e.Name), readyCell(p, e.Ready), fmt.Sprint(e.Suspended), cell(revisionCell(e)),
			formatAge(now.Sub(e.Created)), truncate(cell(tableMessage(e)), maxMessageWidth)}
		if cols.Namespace {
			row = append([]string{cell(e.Namespace)}, row...)
		}
		if cols.Cluster {
			row = append([]string{cell(e.Cluster)}, row...)
		}
		fmt.Fprintln(t, strings.Join(row, "\t"))
	}
	return t.Flush()
}

// tableMessage is the message of a row with the object's revision in its
// short form: REVISION already shows it, and the width is better spent on
// the rest of the message.
func tableMessage(e GetEntry) string {
	if e.Revision == "" {
		return e.Message
	}
	return strings.ReplaceAll(e.Message, e.Revision, shortRevision(e.Revision))
}

package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// maxFieldsWidth is the widest the FIELDS column of the drift table gets.
const maxFieldsWidth = 60

// noDrift is what the drift table says when there is nothing to list.
const noDrift = "no drift recorded"

// DriftOptions configure `flotilla drift`.
type DriftOptions struct {
	// Kube names the cluster and the namespace, or every namespace.
	Kube KubeFlags
	// Output is table, json or yaml.
	Output string
	// Stack, when set, limits the listing to the Stack of that name.
	Stack string
	// Now is the clock the AGE column is measured against; nil is time.Now.
	Now func() time.Time
}

// DriftEntry is one row of `flotilla drift`: a drift record and the Stack
// that holds it. Its fields are those of v1alpha1.DriftRecord.
type DriftEntry struct {
	// Stack and Namespace name the Stack.
	Stack     string `json:"stack"`
	Namespace string `json:"namespace"`
	// Object is Kind/namespace/name of the object that changed.
	Object string `json:"object"`
	// Fields are the paths that changed; empty, not null, for a deletion.
	Fields []string `json:"fields"`
	// Manager is the field manager that made the change; "" for a deletion.
	Manager string `json:"manager"`
	// Action is what Flotilla did: corrected, recreated or reported.
	Action string `json:"action"`
	// Time the agent saw the change, in UTC.
	Time time.Time `json:"time"`
}

// NewDriftCommand returns `flotilla drift`.
func NewDriftCommand(s Streams) *cobra.Command {
	o := &DriftOptions{Output: OutputTable, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "drift [STACK]",
		Short: "List the recent drift recorded on Stacks, newest first",
		Long: "List the changes made outside Flotilla to objects that Stacks applied, as the agent\n" +
			"recorded them in each Stack's status.drift: the object, the fields changed, the\n" +
			"field manager that changed them and what Flotilla did about it.",
		Example: "  flotilla drift                 # every Stack in flotilla-system\n" +
			"  flotilla drift apps -n team-a  # one Stack\n" +
			"  flotilla drift -A -o json      # every namespace, for scripts",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Stack = args[0]
			}
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.Bind(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	return cmd
}

// Run reads the Stacks and prints their drift records.
func (o *DriftOptions) Run(ctx context.Context, s Streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	stacks, err := o.stacks(ctx, c)
	if err != nil {
		return err
	}
	entries := driftEntries(stacks)
	if o.Output == OutputTable {
		return o.printTable(s.Out, entries)
	}
	return printData(s.Out, o.Output, entries)
}

func (o *DriftOptions) validate() error {
	if o.Output == "" {
		o.Output = OutputTable
	}
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	if o.Stack != "" && o.Kube.AllNamespaces {
		return errNameWithAllNamespaces
	}
	return nil
}

// stacks returns the named Stack, or every Stack in scope.
func (o *DriftOptions) stacks(ctx context.Context, c client.Client) ([]v1alpha1.Stack, error) {
	if o.Stack != "" {
		var st v1alpha1.Stack
		key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Stack}
		if err := getNamed(ctx, c, v1alpha1.GroupVersion.WithKind(v1alpha1.StackKind), key, &st); err != nil {
			return nil, err
		}
		return []v1alpha1.Stack{st}, nil
	}
	var list v1alpha1.StackList
	if err := c.List(ctx, &list, o.Kube.ListOptions()...); err != nil {
		return nil, fmt.Errorf("listing Stacks: %w", err)
	}
	return list.Items, nil
}

// driftEntries flattens the Stacks' drift records, newest first; records of
// the same instant keep their Stack's order and go by namespace and name.
func driftEntries(stacks []v1alpha1.Stack) []DriftEntry {
	entries := []DriftEntry{}
	for _, st := range stacks {
		for _, r := range st.Status.Drift {
			entries = append(entries, DriftEntry{
				Stack:     st.Name,
				Namespace: st.Namespace,
				Object:    r.Object,
				Fields:    append([]string{}, r.Fields...),
				Manager:   r.Manager,
				Action:    r.Action,
				Time:      r.Time.UTC(),
			})
		}
	}
	slices.SortStableFunc(entries, func(a, b DriftEntry) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Stack, b.Stack))
	})
	return entries
}

func (o *DriftOptions) printTable(w io.Writer, entries []DriftEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, noDrift)
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now()
	t := newTable(w)
	fmt.Fprintln(t, "STACK\tOBJECT\tFIELDS\tMANAGER\tACTION\tAGE")
	for _, e := range entries {
		stack := e.Stack
		if o.Kube.AllNamespaces {
			stack = e.Namespace + "/" + e.Stack
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(stack), cell(e.Object), truncate(cell(strings.Join(e.Fields, ",")), maxFieldsWidth),
			cell(e.Manager), cell(e.Action), formatAge(at.Sub(e.Time)))
	}
	return t.Flush()
}

package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// GetCanariesOptions configure `flotilla get canaries`: where each Canary
// is in its analysis.
type GetCanariesOptions struct {
	// Kube names the cluster and the namespace, or every namespace.
	Kube KubeFlags
	// Name limits the listing to one Canary.
	Name string
	// Output is table, json or yaml.
	Output string
	// Now is the clock LAST STEP is measured against; nil is time.Now.
	Now func() time.Time
}

// CanaryEntry is one row of `flotilla get canaries`.
type CanaryEntry struct {
	// Namespace and Name of the Canary.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Phase is status.phase.
	Phase string `json:"phase"`
	// Weight is the canary's weight, in percent (0 with blue/green).
	Weight int `json:"weight"`
	// Iterations and MaxIterations count a blue/green analysis; MaxIterations
	// is 0 for weighted routers.
	Iterations    int `json:"iterations"`
	MaxIterations int `json:"maxIterations,omitempty"`
	// FailedChecks and Threshold: the analysis fails at Threshold.
	FailedChecks int `json:"failedChecks"`
	Threshold    int `json:"threshold"`
	// LastStep is when the last analysis step ran.
	LastStep *time.Time `json:"lastStep,omitempty"`
	// Images are the images under analysis.
	Images []string `json:"images,omitempty"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended"`
	// Ready, Reason and Message are those of the Ready condition.
	Ready   string `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

func isCanariesWord(word string) bool {
	w := strings.ToLower(word)
	return w == "canary" || w == "canaries"
}

// runCanaries is `flotilla get canaries [NAME]`.
func (o *GetOptions) runCanaries(ctx context.Context, s Streams, args []string) error {
	if o.AllContexts || strings.Contains(o.Kube.Context, ",") || o.Explain || len(args) > 1 {
		return errors.New("get canaries reads one cluster (--context NAME) and takes at most one NAME")
	}
	g := &GetCanariesOptions{Kube: o.Kube, Output: o.Output, Now: o.Now}
	if len(args) == 1 {
		g.Name = args[0]
	}
	return g.Run(ctx, s)
}

// Run lists the Canaries in scope and prints them.
func (o *GetCanariesOptions) Run(ctx context.Context, s Streams) error {
	o.Output = cmp.Or(o.Output, OutputTable)
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	if o.Name != "" && o.Kube.AllNamespaces {
		return errNameWithAllNamespaces
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	entries, err := o.read(ctx, c)
	if err != nil {
		return err
	}
	if o.Output != OutputTable {
		return printData(s.Out, o.Output, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(s.Out, "no Canaries found")
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return printCanariesTable(s.Out, entries, o.Kube.AllNamespaces, now())
}

func (o *GetCanariesOptions) read(ctx context.Context, c client.Client) ([]CanaryEntry, error) {
	var items []v1alpha1.Canary
	if o.Name != "" {
		var one v1alpha1.Canary
		key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Name}
		if err := getNamed(ctx, c, v1alpha1.GroupVersion.WithKind(v1alpha1.CanaryKind), key, &one); err != nil {
			return nil, err
		}
		items = append(items, one)
	} else {
		var list v1alpha1.CanaryList
		if err := c.List(ctx, &list, o.Kube.ListOptions()...); err != nil {
			return nil, fmt.Errorf("listing Canaries: %w", err)
		}
		items = list.Items
	}
	entries := make([]CanaryEntry, 0, len(items))
	for i := range items {
		entries = append(entries, canaryEntry(&items[i]))
	}
	slices.SortFunc(entries, func(a, b CanaryEntry) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return entries, nil
}

func canaryEntry(c *v1alpha1.Canary) CanaryEntry {
	st := c.Status
	e := CanaryEntry{
		Namespace: c.Namespace, Name: c.Name, Phase: string(st.Phase), Weight: st.CanaryWeight,
		Iterations: st.Iterations, FailedChecks: st.FailedChecks, Threshold: canary.Threshold(c),
		Images: st.CanaryImages, Suspended: c.Spec.Suspend, Ready: "Unknown",
	}
	if canary.BlueGreen(c) {
		e.MaxIterations = c.Spec.Analysis.Iterations
	}
	if st.LastStepAt != nil {
		t := st.LastStepAt.UTC()
		e.LastStep = &t
	}
	if r := meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition); r != nil {
		e.Ready, e.Reason, e.Message = string(r.Status), r.Reason, r.Message
	}
	return e
}

func printCanariesTable(w io.Writer, entries []CanaryEntry, allNamespaces bool, now time.Time) error {
	t := newTable(w)
	header := []string{"NAME", "PHASE", "WEIGHT", "FAILED", "LAST STEP", "MESSAGE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(t, strings.Join(header, "\t"))
	for _, e := range entries {
		name := e.Name
		if e.Suspended {
			name += " (suspended)"
		}
		weight := fmt.Sprintf("%d%%", e.Weight)
		if e.MaxIterations > 0 {
			weight = fmt.Sprintf("iteration %d/%d", e.Iterations, e.MaxIterations)
		}
		last := none
		if e.LastStep != nil {
			last = formatAge(now.Sub(*e.LastStep)) + " ago"
		}
		row := []string{cell(name), cell(cmp.Or(e.Phase, "Pending")), weight, fmt.Sprintf("%d/%d", e.FailedChecks, e.Threshold),
			last, truncate(cell(e.Message), maxMessageWidth)}
		if allNamespaces {
			row = append([]string{e.Namespace}, row...)
		}
		fmt.Fprintln(t, strings.Join(row, "\t"))
	}
	return t.Flush()
}

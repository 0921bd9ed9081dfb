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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// GetImagesOptions configure `flotilla get images`: the ImageRepositories,
// ImagePolicies and ImageUpdates of a namespace in one table, or one
// policy's explanation.
type GetImagesOptions struct {
	// Kube names the cluster and the namespace, or every namespace.
	Kube KubeFlags
	// Kind limits the listing to repository, policy or update; empty lists
	// all three.
	Kind string
	// Name, with Kind, limits the listing to one object.
	Name string
	// Explain prints how the named ImagePolicy chose its tag.
	Explain bool
	// Output is table, json or yaml.
	Output string
	// Now is the clock the AGE column is measured against; nil is time.Now.
	Now func() time.Time
}

// ImageEntry is one row of `flotilla get images`.
type ImageEntry struct {
	// Kind is ImageRepository, ImagePolicy or ImageUpdate.
	Kind string `json:"kind"`
	// Namespace and Name of the object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ready is the status of the Ready condition: True, False or Unknown.
	Ready string `json:"ready"`
	// Reason and Message are those of the Ready condition.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Suspended is spec.suspend (ImagePolicies have none).
	Suspended bool `json:"suspended"`
	// Source is what the object reads: the image (repository), the
	// ImageRepository (policy), the GitRepository (update).
	Source string `json:"source"`
	// Latest is the outcome: the tag count (repository), the chosen image
	// (policy), the last pushed commit (update).
	Latest string `json:"latest"`
	// Created is the object's creation time, in UTC.
	Created time.Time `json:"created"`
}

// ImageExplanation is `flotilla get images policy NAME --explain -o json`.
type ImageExplanation struct {
	Namespace   string                      `json:"namespace"`
	Name        string                      `json:"name"`
	LatestRef   *v1alpha1.ImageRef          `json:"latestRef,omitempty"`
	PreviousRef *v1alpha1.ImageRef          `json:"observedPreviousRef,omitempty"`
	Explanation *v1alpha1.PolicyExplanation `json:"explanation,omitempty"`
}

// Run reads the image objects and prints them, or the explanation.
func (o *GetImagesOptions) Run(ctx context.Context, s Streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	if o.Explain {
		return o.explain(ctx, c, s.Out)
	}
	entries, err := o.read(ctx, c)
	if err != nil {
		return err
	}
	if o.Output != OutputTable {
		return printData(s.Out, o.Output, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(s.Out, "no ImageRepositories, ImagePolicies or ImageUpdates found")
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return printImagesTable(s.Out, paletteFor(s.Out), entries, o.Kube.AllNamespaces, now())
}

func (o *GetImagesOptions) validate() error {
	if o.Output == "" {
		o.Output = OutputTable
	}
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	if o.Kind != "" {
		word, ok := imageSubKind(o.Kind)
		if !ok {
			return fmt.Errorf("unknown image kind %q: use repository, policy or update", o.Kind)
		}
		o.Kind = word
	}
	switch {
	case o.Name != "" && o.Kube.AllNamespaces:
		return errNameWithAllNamespaces
	case o.Explain && (o.Kind != "imagepolicy" || o.Name == ""):
		return errors.New("--explain explains one ImagePolicy: flotilla get images policy NAME --explain")
	}
	return nil
}

// read lists the kinds in scope, as rows sorted by namespace, kind, name.
func (o *GetImagesOptions) read(ctx context.Context, c client.Client) ([]ImageEntry, error) {
	entries := []ImageEntry{}
	for _, kind := range imageKinds() {
		if o.Kind != "" && o.Kind != kind.Arg {
			continue
		}
		objs, err := listKind(ctx, c, kind, &o.Kube, o.Name)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			entries = append(entries, imageEntry(obj))
		}
	}
	sortImageEntries(entries)
	return entries, nil
}

// sortImageEntries sorts rows by namespace, then kind as the data flows
// (repositories, policies, updates), then name.
func sortImageEntries(entries []ImageEntry) {
	slices.SortFunc(entries, func(a, b ImageEntry) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
}

// kindRank orders the table as the data flows: repositories, policies,
// updates.
func kindRank(kind string) int {
	return slices.Index([]string{v1alpha1.ImageRepositoryKind, v1alpha1.ImagePolicyKind, v1alpha1.ImageUpdateKind}, kind)
}

func imageEntry(obj client.Object) ImageEntry {
	var st objectState
	conds, _ := imageState(obj, &st)
	e := ImageEntry{
		Kind: imageKindName(obj), Namespace: obj.GetNamespace(), Name: obj.GetName(),
		Ready: string(metav1.ConditionUnknown), Suspended: st.Suspended, Created: obj.GetCreationTimestamp().UTC(),
	}
	if ready := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition); ready != nil {
		e.Ready, e.Reason, e.Message = string(ready.Status), ready.Reason, ready.Message
	}
	switch o := obj.(type) {
	case *v1alpha1.ImageRepository:
		e.Source = o.Spec.Image
		if r := o.Status.LastScanResult; r != nil {
			e.Latest = fmt.Sprintf("%d tags", r.TagCount)
		}
	case *v1alpha1.ImagePolicy:
		e.Source = v1alpha1.ImageRepositoryKind + "/" + o.Spec.ImageRepositoryRef.Name
		if r := o.Status.LatestRef; r != nil {
			e.Latest = r.String()
		}
	case *v1alpha1.ImageUpdate:
		e.Source = cmp.Or(o.Spec.SourceRef.Kind, v1alpha1.GitRepositoryKind) + "/" + o.Spec.SourceRef.Name
		e.Latest = o.Status.LastPushCommit
	}
	return e
}

func printImagesTable(w io.Writer, p palette, entries []ImageEntry, allNamespaces bool, now time.Time) error {
	t := newTable(w)
	header := []string{"KIND", "NAME", p.paint(sameWidthCode, "READY"), "SOURCE", "LATEST", "AGE", "MESSAGE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(t, strings.Join(header, "\t"))
	for _, e := range entries {
		name := e.Name
		if e.Suspended {
			name += " (suspended)"
		}
		row := []string{e.Kind, cell(name), readyCell(p, e.Ready), cell(e.Source), cell(shortImageRef(e.Latest)),
			formatAge(now.Sub(e.Created)), truncate(cell(e.Message), maxMessageWidth)}
		if allNamespaces {
			row = append([]string{cell(e.Namespace)}, row...)
		}
		fmt.Fprintln(t, strings.Join(row, "\t"))
	}
	return t.Flush()
}

// shortImageRef shortens a digest at the end of an image reference, or a
// commit, as the other tables do.
func shortImageRef(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return s[:i+1] + shortRevision(s[i+1:])
	}
	if len(s) == 40 && strings.Trim(s, "0123456789abcdef") == "" {
		return s[:shortDigest]
	}
	return shortRevision(s)
}

// explain prints how the named ImagePolicy chose, from its status.
func (o *GetImagesOptions) explain(ctx context.Context, c client.Client, w io.Writer) error {
	kind, _ := kindFor(v1alpha1.ImagePolicyKind)
	pol := &v1alpha1.ImagePolicy{}
	if err := getNamed(ctx, c, kind.GVK(), client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Name}, pol); err != nil {
		return err
	}
	data := ImageExplanation{Namespace: pol.Namespace, Name: pol.Name, LatestRef: pol.Status.LatestRef,
		PreviousRef: pol.Status.ObservedPreviousRef, Explanation: pol.Status.Explanation}
	if o.Output != OutputTable {
		return printData(w, o.Output, data)
	}
	return printExplanation(w, pol)
}

func printExplanation(w io.Writer, pol *v1alpha1.ImagePolicy) error {
	name := objectName(pol)
	ex := pol.Status.Explanation
	if ex == nil {
		ready := meta.FindStatusCondition(pol.Status.Conditions, v1alpha1.ReadyCondition)
		msg := "the agent has not chosen yet"
		if ready != nil {
			msg = ready.Reason + ": " + ready.Message
		}
		_, err := fmt.Fprintf(w, "%s has no explanation: %s\n", name, msg)
		return err
	}
	t := newTable(w)
	chosen := "nothing"
	if r := pol.Status.LatestRef; r != nil {
		chosen = r.String()
	}
	fmt.Fprintf(t, "%s chose %s\n", name, chosen)
	fmt.Fprintf(t, "Policy:\t%s\n", ex.Policy)
	fmt.Fprintf(t, "Scan:\t%s: %d tags considered, %d candidates\n", cmp.Or(ex.ScanRevision, "(none)"), ex.Considered, ex.CandidateCount)
	fmt.Fprintf(t, "Why:\t%s\n", ex.Why)
	if prev := pol.Status.ObservedPreviousRef; prev != nil {
		fmt.Fprintf(t, "Previous:\t%s\n", prev.String())
	}
	if len(ex.TopCandidates) > 0 {
		fmt.Fprintf(t, "Candidates:\t%s", strings.Join(ex.TopCandidates, ", "))
		if more := ex.CandidateCount - len(ex.TopCandidates); more > 0 {
			fmt.Fprintf(t, " and %d more", more)
		}
		fmt.Fprintln(t)
	}
	if len(ex.Excluded) > 0 {
		fmt.Fprintln(t, "Left out:")
		for _, x := range ex.Excluded {
			fmt.Fprintf(t, "  %d\t%s\t%s\n", x.Count, x.Reason, strings.Join(x.Examples, ", "))
		}
	}
	return t.Flush()
}

// runImages is `get images [repository|policy|update [NAME]]`, one cluster.
func (o *GetOptions) runImages(ctx context.Context, s Streams, args []string) error {
	if o.AllContexts || strings.Contains(o.Kube.Context, ",") {
		return errors.New("get images reads one cluster: use --context NAME")
	}
	img := &GetImagesOptions{Kube: o.Kube, Output: o.Output, Explain: o.Explain, Now: o.Now}
	if len(args) > 0 {
		img.Kind = args[0]
	}
	if len(args) > 1 {
		img.Name = args[1]
	}
	return img.Run(ctx, s)
}

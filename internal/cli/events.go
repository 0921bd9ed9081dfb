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

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// EventsOptions configure `flotilla events`.
type EventsOptions struct {
	// Kube names the cluster and the namespace, or every namespace.
	Kube KubeFlags
	// For limits the events to one object: stack/NAME or source/NAME.
	For string
	// Output is table, json or yaml.
	Output string
	// Now is the clock the LAST SEEN column is measured against; nil is time.Now.
	Now func() time.Time
}

// EventEntry is one row of `flotilla events`.
type EventEntry struct {
	// Namespace of the event and of the object.
	Namespace string `json:"namespace"`
	// Object is kind/name of the object: stack/apps, gitrepository/fleet.
	Object string `json:"object"`
	// Type is Normal or Warning.
	Type string `json:"type"`
	// Reason is the agent's reason, e.g. ReconcileSucceeded.
	Reason string `json:"reason"`
	// Message says what happened.
	Message string `json:"message"`
	// Count is how many times it happened.
	Count int32 `json:"count"`
	// FirstSeen and LastSeen bound when it happened, in UTC.
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// NewEventsCommand returns `flotilla events`.
func NewEventsCommand(s Streams) *cobra.Command {
	o := &EventsOptions{Output: OutputTable, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the events of Stacks and sources, oldest first",
		Long: "List the Kubernetes events the agent recorded about Stacks and GitRepositories\n" +
			"(or about the one object --for names), oldest first, as kubectl does.",
		Example: "  flotilla events\n" +
			"  flotilla events --for stack/apps -n team-a\n" +
			"  flotilla events -A -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	o.Kube.Bind(cmd.Flags())
	cmd.Flags().StringVar(&o.For, "for", "", "only the events of one object: stack/NAME or source/NAME")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	return cmd
}

// Run lists the events and prints them.
func (o *EventsOptions) Run(ctx context.Context, s Streams) error {
	if o.Output == "" {
		o.Output = OutputTable
	}
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	match, err := eventFilter(o.For)
	if err != nil {
		return err
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	if err := o.checkForExists(ctx, c); err != nil {
		return err
	}
	var list corev1.EventList
	if err := c.List(ctx, &list, o.Kube.ListOptions()...); err != nil {
		return fmt.Errorf("listing events: %w", err)
	}
	entries := eventEntries(list.Items, match)
	if o.Output != OutputTable {
		return printData(s.Out, o.Output, entries)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(s.Out, "no events found")
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return printEventsTable(s.Out, paletteFor(s.Out), entries, o.Kube.AllNamespaces, now())
}

// checkForExists makes sure the object --for names exists, so that a typo
// is not taken for an object without events: a *NotFoundError with a close
// name in one namespace, a plain error across all of them.
func (o *EventsOptions) checkForExists(ctx context.Context, c client.Client) error {
	if o.For == "" {
		return nil
	}
	word, name, _ := strings.Cut(o.For, "/")
	kind, err := kindFor(word)
	if err != nil {
		return err
	}
	if !o.Kube.AllNamespaces {
		key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: name}
		return getNamed(ctx, c, kind.GVK(), key, kind.newObject())
	}
	names, err := namesIn(ctx, c, kind.GVK(), "")
	if err != nil {
		return fmt.Errorf("listing %s: %w", kind.Plural, err)
	}
	if slices.Contains(names, name) {
		return nil
	}
	msg := fmt.Sprintf("--for %s: no %s %s in any namespace", o.For, kind.Kind, name)
	if near := closestName(name, names, maxSuggestionDistance); near != "" {
		msg += "; did you mean " + near + "?"
	}
	return errors.New(msg)
}

// eventFilter returns what an event's object must be: any Stack or
// GitRepository with an empty forArg, else the one object it names.
func eventFilter(forArg string) (func(corev1.ObjectReference) bool, error) {
	flotilla := func(ref corev1.ObjectReference) bool {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		return err == nil && gv.Group == v1alpha1.GroupVersion.Group
	}
	if forArg == "" {
		return func(ref corev1.ObjectReference) bool {
			return flotilla(ref) && (ref.Kind == v1alpha1.StackKind || ref.Kind == v1alpha1.GitRepositoryKind)
		}, nil
	}
	word, name, ok := strings.Cut(forArg, "/")
	if !ok || name == "" {
		return nil, fmt.Errorf("--for %q: use stack/NAME or source/NAME", forArg)
	}
	kind, err := kindFor(word)
	if err != nil {
		return nil, fmt.Errorf("--for %q: %w", forArg, err)
	}
	return func(ref corev1.ObjectReference) bool {
		return flotilla(ref) && ref.Kind == kind.Kind && ref.Name == name
	}, nil
}

// eventEntries keeps the events whose object matches, oldest first.
func eventEntries(events []corev1.Event, match func(corev1.ObjectReference) bool) []EventEntry {
	entries := []EventEntry{}
	for _, ev := range events {
		if !match(ev.InvolvedObject) {
			continue
		}
		first, last, count := eventTimes(ev)
		entries = append(entries, EventEntry{
			Namespace: ev.Namespace,
			Object:    strings.ToLower(ev.InvolvedObject.Kind) + "/" + ev.InvolvedObject.Name,
			Type:      ev.Type, Reason: ev.Reason, Message: ev.Message,
			Count: count, FirstSeen: first.UTC(), LastSeen: last.UTC(),
		})
	}
	slices.SortStableFunc(entries, func(a, b EventEntry) int {
		return cmp.Or(a.LastSeen.Compare(b.LastSeen), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Object, b.Object))
	})
	return entries
}

// eventTimes reads when an event was first and last seen and how often, from
// whichever fields its writer set: the core/v1 fields (timestamps and count)
// or those of events.k8s.io/v1 (eventTime and series).
func eventTimes(ev corev1.Event) (first, last time.Time, count int32) {
	first = cmp.Or(ev.FirstTimestamp.Time, ev.EventTime.Time, ev.CreationTimestamp.Time)
	last = cmp.Or(ev.LastTimestamp.Time, ev.EventTime.Time, first)
	count = max(ev.Count, 1)
	if ev.Series != nil {
		last = cmp.Or(ev.Series.LastObservedTime.Time, last)
		count = max(ev.Series.Count, count)
	}
	return first, last, count
}

func printEventsTable(w io.Writer, p palette, entries []EventEntry, namespaces bool, now time.Time) error {
	t := newTable(w)
	header := "LAST SEEN\t" + p.paint(sameWidthCode, "TYPE") + "\tREASON\tOBJECT\tMESSAGE"
	if namespaces {
		header = "NAMESPACE\t" + header
	}
	fmt.Fprintln(t, header)
	for _, e := range entries {
		seen := formatAge(now.Sub(e.LastSeen))
		if e.Count > 1 {
			seen = fmt.Sprintf("%s (x%d over %s)", seen, e.Count, formatAge(now.Sub(e.FirstSeen)))
		}
		typ := p.paint(sameWidthCode, cell(e.Type))
		if e.Type == corev1.EventTypeWarning {
			typ = p.Yellow(e.Type)
		}
		row := []string{seen, typ, cell(e.Reason), cell(e.Object), truncate(cell(e.Message), maxMessageWidth)}
		if namespaces {
			row = append([]string{cell(e.Namespace)}, row...)
		}
		fmt.Fprintln(t, strings.Join(row, "\t"))
	}
	return t.Flush()
}

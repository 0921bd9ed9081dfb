package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
)

// RolloutHistoryOptions configure `flotilla rollout history`.
type RolloutHistoryOptions struct {
	// Kube names the cluster and the Canary's namespace.
	Kube KubeFlags
	// Name of the Canary.
	Name string
	// Repo reads the ledger from this repository URL or local clone
	// instead of resolving the Canary's through the cluster.
	Repo string
	// Output is table, json or yaml.
	Output string
	// Timeout bounds the fetch.
	Timeout time.Duration
}

// NewRolloutCommand returns `flotilla rollout`, whose verb history reads a
// Canary's rollout ledger.
func NewRolloutCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Read the rollout ledger the Canaries write in Git",
	}
	o := &RolloutHistoryOptions{Output: OutputTable, Timeout: time.Minute}
	history := &cobra.Command{
		Use:   "history NAME",
		Short: "Show every phase change and analysis step of a Canary, from the Git notes of refs/notes/flotilla",
		Long: "Read the rollout ledger of a Canary: the lines its agent wrote as Git notes\n" +
			"(refs/notes/flotilla) on the commits it ran, oldest first. The repository and its\n" +
			"credentials are found through the cluster (the Stack that applied the Canary, its\n" +
			"GitRepository and Secret); --repo reads a repository URL or a local clone instead.",
		Example: "  flotilla rollout history podinfo -n apps\n" +
			"  flotilla rollout history podinfo -n apps -o json\n" +
			"  flotilla rollout history podinfo -n apps --repo ./fleet   # after git fetch origin refs/notes/flotilla:refs/notes/flotilla",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.BindOne(history.Flags())
	history.Flags().StringVar(&o.Repo, "repo", "", "read the ledger from this repository URL or local clone, without the cluster")
	history.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	history.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long the fetch of the notes may take")
	cmd.AddCommand(history)
	return cmd
}

// Run reads the ledger and prints the Canary's entries on s.Out.
func (o *RolloutHistoryOptions) Run(ctx context.Context, s Streams) error {
	if err := checkOutput(o.Output, OutputTable, OutputJSON, OutputYAML); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	notes, err := o.notes(ctx)
	if err != nil {
		return err
	}
	records := canaryRecords(notes, o.Kube.NamespaceOrDefault()+"/"+o.Name)
	if o.Output != OutputTable {
		return printData(s.Out, o.Output, records)
	}
	return printHistory(s, records, o.Kube.NamespaceOrDefault()+"/"+o.Name)
}

// notes reads every note of refs/notes/flotilla: from --repo, or from the
// Canary's repository found through the cluster.
func (o *RolloutHistoryOptions) notes(ctx context.Context) (map[string]string, error) {
	store := ledger.NewStore()
	if o.Repo != "" {
		if info, err := os.Stat(o.Repo); err == nil && info.IsDir() {
			return ledger.LocalNotes(o.Repo)
		}
		return store.Notes(ctx, ledger.Remote{URL: o.Repo})
	}
	c, err := o.Kube.Client()
	if err != nil {
		return nil, err
	}
	cn := &v1alpha1.Canary{}
	key := client.ObjectKey{Namespace: o.Kube.NamespaceOrDefault(), Name: o.Name}
	if err := getNamed(ctx, c, v1alpha1.GroupVersion.WithKind(v1alpha1.CanaryKind), key, cn); err != nil {
		return nil, err
	}
	t, err := ledger.Resolve(ctx, c, cn)
	if err != nil {
		return nil, err
	}
	return store.Notes(ctx, t.Remote)
}

// canaryRecords returns the entries of canary (namespace/name) in notes,
// oldest first.
func canaryRecords(notes map[string]string, canary string) []ledger.Record {
	out := []ledger.Record{}
	for commit, note := range notes {
		for _, r := range ledger.ParseNote(commit, note) {
			if r.Canary == canary {
				out = append(out, r)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ledger.Record) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Commit, b.Commit))
	})
	return out
}

// printHistory writes the entries as a table.
func printHistory(s Streams, records []ledger.Record, canary string) error {
	if len(records) == 0 {
		_, err := fmt.Fprintf(s.Out, "No ledger entries of Canary %s in refs/notes/flotilla.\n", canary)
		return err
	}
	w := newTable(s.Out)
	fmt.Fprintln(w, "TIME\tCOMMIT\tPHASE\tWEIGHT\tFAILED CHECKS\tMESSAGE")
	for _, r := range records {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d%%\t%d\t%s\n", r.Time.UTC().Format(time.RFC3339), r.Commit[:min(7, len(r.Commit))],
			cell(string(r.Phase)), r.Weight, r.FailedChecks, cell(strings.TrimSpace(r.Message)))
	}
	return w.Flush()
}

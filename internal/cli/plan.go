package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/internal/fleet"
)

// Output formats of plan's -o.
const (
	planOutputText     = "text"
	planOutputMarkdown = "markdown"
)

// Exit code of plan when the change changes at least one cluster.
const ExitPlanChanges = 2

// PlanOptions configure `flotilla plan`.
type PlanOptions struct {
	// Repo is the fleet repository's directory (the one holding
	// clusters/); "" is the top level of the current directory's clone.
	Repo string
	// Base is the revision compared against; "" is the merge-base of HEAD
	// with the default branch.
	Base string
	// Head is the revision planned; "" is the working tree.
	Head string
	// Output is text, markdown or json.
	Output string
	// WarnClusters: a change reaching more clusters is warned about; 0
	// never warns.
	WarnClusters int
	// Source is namespace/name of the GitRepository that serves the
	// repository in the clusters; Stacks reading another are not planned.
	Source string
	// DecryptionKeys is the file of --decryption-keys, used for every
	// Stack with spec.decryption; "" decrypts nothing.
	DecryptionKeys string
}

// NewPlanCommand returns `flotilla plan`.
func NewPlanCommand(s Streams) *cobra.Command {
	o := &PlanOptions{Output: planOutputText, WarnClusters: fleet.DefaultWarnClusters, Source: fleet.DefaultNamespace + "/" + fleet.DefaultSource}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what a change to the fleet repository does to every cluster, from Git alone",
		Long: "Render every Stack of every cluster (each clusters/<name>/ of the repository) at two\n" +
			"revisions, with the agent's render engine, and show the objects each cluster would add,\n" +
			"change and remove, field by field, with warnings for risky changes. Reads Git only.\n\n" +
			"Exit codes: 0 no change, 2 changes, 1 an error (a cluster that would fail to render at\n" +
			"the head revision counts as an error; the plan of the other clusters is still printed).",
		Example: "  flotilla plan                                 # working tree against the merge-base with main\n" +
			"  flotilla plan --base origin/main --head HEAD  # a pull request in CI\n" +
			"  flotilla plan -o markdown > plan.md           # a pull-request comment",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", o.Repo, "the fleet repository's directory (default: the top level of the current Git clone)")
	f.StringVar(&o.Base, "base", o.Base, "the revision to compare against (default: the merge-base of HEAD with origin/HEAD, main or master)")
	f.StringVar(&o.Head, "head", o.Head, "the revision to plan (default: the working tree, uncommitted changes included)")
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: text, markdown or json")
	f.IntVar(&o.WarnClusters, "warn-clusters", o.WarnClusters, "warn when a change reaches more clusters than this (0: never)")
	f.StringVar(&o.DecryptionKeys, "decryption-keys", o.DecryptionKeys, decryptionKeysUsage+" (used for the Stacks with spec.decryption)")
	f.StringVar(&o.Source, "source", o.Source, "namespace/name of the GitRepository that serves this repository in the clusters")
	return cmd
}

// Run plans the change and prints it; the error carries the exit code.
func (o *PlanOptions) Run(ctx context.Context, s Streams) error {
	fo, err := o.fleetOptions()
	if err != nil {
		return err
	}
	progress := progressFor(s.ErrOut)
	progress.Update("rendering every cluster at %s and %s", fo.BaseRevision.Name, fo.HeadRevision.Name)
	res, err := fleet.Plan(ctx, fo)
	progress.Stop()
	if err != nil {
		return err
	}
	if err := o.print(s.Out, res); err != nil {
		return err
	}
	return planExit(res)
}

// fleetOptions opens the repository and reads both revisions.
func (o *PlanOptions) fleetOptions() (fleet.Options, error) {
	if err := checkOutput(o.Output, planOutputText, planOutputMarkdown, OutputJSON); err != nil {
		return fleet.Options{}, err
	}
	ns, name, ok := strings.Cut(o.Source, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fleet.Options{}, fmt.Errorf("--source %q: give the GitRepository as namespace/name, e.g. flotilla-system/fleet", o.Source)
	}
	dir := o.Repo
	if dir == "" {
		top, err := fleet.TopLevel(".")
		if err != nil {
			return fleet.Options{}, err
		}
		dir = top
	}
	repo, err := fleet.OpenRepo(dir)
	if err != nil {
		return fleet.Options{}, err
	}
	base, head, br, hr, err := fleet.Snapshots(repo, o.Base, o.Head)
	if err != nil {
		return fleet.Options{}, err
	}
	fo := fleet.DefaultOptions(base, head)
	fo.BaseRevision, fo.HeadRevision = br, hr
	fo.Source = fleet.SourceRef{Namespace: ns, Name: name}
	fo.WarnClusters = o.WarnClusters
	if fo.Decryption, err = loadDecryptionKeys(o.DecryptionKeys); err != nil {
		return fleet.Options{}, err
	}
	if o.WarnClusters == 0 {
		fo.WarnClusters = -1
	}
	return fo, nil
}

func (o *PlanOptions) print(w io.Writer, res *fleet.Result) error {
	switch o.Output {
	case OutputJSON:
		return fleet.WriteJSON(w, res)
	case planOutputMarkdown:
		return fleet.WriteMarkdown(w, res)
	}
	p := paletteFor(w)
	return fleet.WriteText(w, res, fleet.Style{Added: p.Green, Changed: p.Yellow, Removed: p.Red,
		Warning: p.Yellow, Failure: p.Red, Heading: p.Bold})
}

// planExit is 1 (with a message) when a cluster would fail to render, 2
// when a cluster changes, nil when nothing changes.
func planExit(res *fleet.Result) error {
	if failures := res.Failures(); len(failures) > 0 {
		_, _, failed := res.Count()
		names := make([]string, 0, len(failures))
		for _, f := range failures {
			names = append(names, f.Cluster)
		}
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d clusters would fail to render at head (%s): %s (fix the files the plan names)",
			failed, len(res.Clusters), res.Head.Name, strings.Join(uniq(names), ", "))}
	}
	if res.Changed() {
		return &ExitCodeError{Code: ExitPlanChanges}
	}
	return nil
}

func uniq(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || s[i-1] != v {
			out = append(out, v)
		}
	}
	return out
}

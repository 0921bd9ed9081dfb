package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Streams are where a command reads and writes.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// OSStreams returns the process's standard streams.
func OSStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// NewRootCommand returns the flotilla command with every verb.
func NewRootCommand(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "flotilla",
		Short: "GitOps for fleets of Kubernetes clusters",
		Long: "Flotilla keeps every cluster of a fleet at the state one Git repository declares.\n" +
			"`flotilla agent` runs the controllers; the other verbs are for people and CI.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.AddCommand(
		NewVersionCommand(s),
		NewAgentCommand(s),
		NewDemoCommand(s),
		NewInstallCommand(s),
		NewBootstrapCommand(s),
		NewCheckCommand(s),
		NewGetCommand(s),
		NewReconcileCommand(s),
		NewSuspendCommand(s),
		NewResumeCommand(s),
		NewEventsCommand(s),
		withNameCompletion(NewDriftCommand(s), "stack"),
		withStackNameCompletion(NewBuildCommand(s)),
		withStackNameCompletion(NewDiffCommand(s)),
		withStackNameCompletion(NewTreeCommand(s)),
		NewPlanCommand(s),
		NewRolloutCommand(s),
		NewPromoteCommand(s),
		NewAbortCommand(s),
		NewDashboardCommand(s),
	)
	return root
}

package cli

import "github.com/spf13/cobra"

// NewAbortCommand returns `flotilla abort canary NAME`.
func NewAbortCommand(s Streams) *cobra.Command {
	return newCanaryRequestCommand(s, true, &cobra.Command{
		Use:   "abort canary NAME",
		Short: "Roll back a Canary under analysis now",
		Long: "Ask the agent to roll back a Canary that is Waiting, Progressing, WaitingPromotion or\n" +
			"Frozen: all traffic goes back to the primary and the canary scales to zero (phase\n" +
			"Failed). The request is the flotilla.io/abort-requested-at annotation;\n" +
			"status.handledAbort echoes it.",
		Example: "  flotilla abort canary podinfo -n apps",
	})
}

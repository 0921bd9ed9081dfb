package cli

import "github.com/spf13/cobra"

// NewPromoteCommand returns `flotilla promote canary NAME`.
func NewPromoteCommand(s Streams) *cobra.Command {
	return newCanaryRequestCommand(s, false, &cobra.Command{
		Use:   "promote canary NAME",
		Short: "Promote a Canary under analysis now, skipping the checks and gates left",
		Long: "Ask the agent to promote a Canary that is Waiting, Progressing, WaitingPromotion or\n" +
			"Frozen: its spec is copied to the primary, then all traffic goes to it. The request\n" +
			"is the flotilla.io/promote-requested-at annotation; status.handledPromote echoes it.",
		Example: "  flotilla promote canary podinfo -n apps\n  flotilla promote canary podinfo --wait=false",
	})
}

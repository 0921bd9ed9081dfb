package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// requireSubcommand makes a command that only groups subcommands fail with
// code when run bare or with an unknown subcommand, where cobra would print
// its help and exit 0 (which, for diff, means "no differences").
func requireSubcommand(cmd *cobra.Command, code int) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, sub := range cmd.Commands() {
			names = append(names, sub.Name())
		}
		use := strings.Join(names, ", ")
		err := fmt.Errorf("%s needs a subcommand: %s", cmd.CommandPath(), use)
		if len(args) > 0 {
			hint := "use " + use
			if s := closestName(args[0], names, maxSuggestionDistance); s != "" {
				hint = "did you mean " + s + "?"
			}
			err = fmt.Errorf("unknown command %q for %s: %s", args[0], cmd.CommandPath(), hint)
		}
		if code == ExitError {
			return err
		}
		return &ExitCodeError{Code: code, Err: err}
	}
}

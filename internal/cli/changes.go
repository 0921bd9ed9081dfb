package cli

import (
	"fmt"
	"io"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// printChanges prints one line per object: its name and what happened.
func printChanges(w io.Writer, cs apply.ChangeSet) {
	pal := paletteFor(w)
	for _, ch := range cs.Changes {
		action := string(ch.Action)
		switch ch.Action {
		case apply.Unchanged:
			action = pal.Dim(action)
		case apply.Created, apply.Configured, apply.Recreated:
			action = pal.Green(action)
		}
		fmt.Fprintf(w, "%s %s\n", ch.Object, action)
	}
}

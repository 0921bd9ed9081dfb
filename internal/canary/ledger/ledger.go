package ledger

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// Ledger writes a Canary's entries as Git notes on the commit its Stack
// last applied, in that Stack's GitRepository.
type Ledger struct {
	client client.Reader
	store  *Store
}

var _ canary.Ledger = &Ledger{}

// New returns a Ledger that resolves Canaries with c and writes with store.
func New(c client.Reader, store *Store) *Ledger { return &Ledger{client: c, store: store} }

// Write implements canary.Ledger. A Canary whose spec.ledger does not ask
// to push writes nothing and returns "".
func (l *Ledger) Write(ctx context.Context, c *v1alpha1.Canary, entries []canary.LedgerEntry) (string, error) {
	if c.Spec.Ledger == nil || !c.Spec.Ledger.Push || len(entries) == 0 {
		return "", nil
	}
	t, err := Resolve(ctx, l.client, c)
	if err != nil {
		return "", err
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		line, err := Format(e)
		if err != nil {
			return "", err
		}
		lines = append(lines, line)
	}
	last := entries[len(entries)-1]
	subject := fmt.Sprintf("flotilla: Canary %s/%s %s on %s\n\nRollout ledger of Canary %s/%s, %d entries.\n",
		c.Namespace, c.Name, last.Phase, t.Commit[:12], c.Namespace, c.Name, len(entries))
	if err := l.store.Append(ctx, t.Remote, t.Commit, subject, lines); err != nil {
		return "", fmt.Errorf("ledger of Canary %s/%s on %s: %w", c.Namespace, c.Name, t.Revision, err)
	}
	return t.Commit, nil
}

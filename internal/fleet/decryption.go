package fleet

import (
	"errors"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

// keys are the decryption keys for a Stack with spec.decryption: the
// plan's, or none at all, so that an encrypted file fails the Stack's plan
// with an error saying no key fits, as the agent's render would with a
// Secret that holds none of its keys.
func (p *planner) keys() *decrypt.Keys {
	if p.o.Decryption != nil {
		return p.o.Decryption
	}
	none, _ := decrypt.ParseKeys(nil)
	return none
}

// withoutKeys turns the failure of a Stack whose encrypted files the plan
// holds no keys for into "cannot plan": the keys are in the cluster, and
// the plan was not given them; it is no sign that the cluster would fail.
// It reports whether it did.
func (p *planner) withoutKeys(sd *side) bool {
	if p.o.Decryption != nil || !errors.Is(sd.err, decrypt.ErrNoMatchingKey) {
		return false
	}
	sd.status, sd.objs = StackCannotPlan, nil
	sd.reason = "its SOPS-encrypted files are decrypted with keys held in the cluster: give them with --decryption-keys"
	return true
}

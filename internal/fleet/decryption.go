package fleet

import "github.com/flotilla-io/flotilla/internal/decrypt"

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

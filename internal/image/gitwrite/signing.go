package gitwrite

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Keys of the Secret named by spec.git.commit.signingKey, as Flux names them.
const (
	SigningKeyKey = "git.asc"
	PassphraseKey = "passphrase"
)

// ErrSigningKey means the signing key Secret is unusable.
var ErrSigningKey = errors.New("unusable signing key")

// ParseSigningKey reads the first entity of an armored OpenPGP private key
// and decrypts it with passphrase when it is encrypted.
func ParseSigningKey(armored, passphrase []byte) (*openpgp.Entity, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil || len(ring) == 0 {
		return nil, fmt.Errorf("%w: secret key %q is not an armored OpenPGP key", ErrSigningKey, SigningKeyKey)
	}
	e := ring[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("%w: secret key %q holds no private key", ErrSigningKey, SigningKeyKey)
	}
	if e.PrivateKey.Encrypted {
		if err := e.PrivateKey.Decrypt(passphrase); err != nil {
			return nil, fmt.Errorf("%w: the passphrase in %q does not decrypt %q", ErrSigningKey, PassphraseKey, SigningKeyKey)
		}
	}
	for _, sub := range e.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
			_ = sub.PrivateKey.Decrypt(passphrase)
		}
	}
	return e, nil
}

package decrypt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
)

// keyServer is the sops key service that unwraps data keys with the keys
// held in memory. It serves nothing else: encryption, and every key type
// but age and PGP, are refused.
type keyServer struct {
	keys *Keys
}

var _ keyservice.KeyServiceServer = keyServer{}

// errEncryptRefused is returned to a request to encrypt.
var errEncryptRefused = errors.New("this key service only decrypts")

// Encrypt implements keyservice.KeyServiceServer; it is refused.
func (s keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errEncryptRefused
}

// Decrypt implements keyservice.KeyServiceServer: it unwraps one data key.
func (s keyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var (
		plain []byte
		err   error
	)
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		plain, err = s.keys.unwrapAge(k.AgeKey.GetRecipient(), req.GetCiphertext())
	case *keyservice.Key_PgpKey:
		plain, err = s.keys.unwrapPGP(req.GetCiphertext())
	default:
		err = ErrUnsupportedKey
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

// unwrapAge decrypts an age-wrapped data key with the age identities held.
func (k *Keys) unwrapAge(recipient string, ciphertext []byte) ([]byte, error) {
	if len(k.age) == 0 {
		return nil, fmt.Errorf("%w: no age identity", ErrNoMatchingKey)
	}
	mk := sopsage.MasterKey{Recipient: recipient, EncryptedKey: string(ciphertext)}
	k.age.ApplyToMasterKey(&mk)
	plain, err := mk.Decrypt()
	if err != nil {
		return nil, fmt.Errorf("%w: no age identity matches", ErrNoMatchingKey)
	}
	return plain, nil
}

// unwrapPGP decrypts a PGP-wrapped data key with the PGP keys held, as
// sops's own OpenPGP path does, from memory instead of a keyring file.
func (k *Keys) unwrapPGP(ciphertext []byte) ([]byte, error) {
	if len(k.pgp) == 0 {
		return nil, fmt.Errorf("%w: no PGP key", ErrNoMatchingKey)
	}
	block, err := armor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("%w: the PGP-wrapped data key is not armored", ErrMalformed)
	}
	md, err := openpgp.ReadMessage(block.Body, k.pgp, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: no PGP key matches", ErrNoMatchingKey)
	}
	plain, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		return nil, fmt.Errorf("%w: the PGP-wrapped data key cannot be read", ErrMalformed)
	}
	return plain, nil
}

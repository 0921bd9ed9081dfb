package decrypt

import (
	"errors"
	"strings"
)

// Causes a decryption can fail with; branch on them with errors.Is.
var (
	// ErrNotConfigured means a file is encrypted and no keys were given.
	ErrNotConfigured = errors.New("no decryption configured")
	// ErrNoMatchingKey means none of the keys given decrypts the file's data key.
	ErrNoMatchingKey = errors.New("no matching decryption key")
	// ErrUnsupportedKey means only a key type this build does not support
	// (a cloud KMS or Vault) could decrypt the file.
	ErrUnsupportedKey = errors.New("key type not supported by this build")
	// ErrMACMismatch means the file's content does not match its MAC: it
	// was edited without sops, or tampered with.
	ErrMACMismatch = errors.New("MAC mismatch")
	// ErrMalformed means the file looks encrypted but its SOPS metadata or
	// values cannot be read.
	ErrMalformed = errors.New("malformed SOPS file")
	// ErrTooLarge means the file is over MaxFileSize.
	ErrTooLarge = errors.New("encrypted file too large")
	// ErrInvalidKey means an entry of the decryption Secret cannot be parsed.
	ErrInvalidKey = errors.New("invalid decryption key")
)

// KeyError is a failure to unwrap a file's data key. It says which key
// types (and public recipients) the file is encrypted for and which the
// decryptor holds.
type KeyError struct {
	// FileKeys are the master keys of the file, "type recipient".
	FileKeys []string
	// Held describes the keys the decryptor holds.
	Held string
	// Err is ErrNoMatchingKey or ErrUnsupportedKey.
	Err error
}

// Error implements error.
func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	b.WriteString(": the file is encrypted for ")
	b.WriteString(strings.Join(e.FileKeys, ", "))
	b.WriteString("; ")
	b.WriteString(e.Held)
	return b.String()
}

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

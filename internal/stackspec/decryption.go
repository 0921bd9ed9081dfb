package stackspec

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/render"
)

// DecryptionError is a decryption Secret that could not be read or parsed.
type DecryptionError struct {
	// Namespace and Name of the Secret: always the Stack's namespace.
	Namespace, Name string
	// Err is the API server's or the key parser's error; it never quotes a key.
	Err error
}

// Error names the Secret and what to do.
func (e *DecryptionError) Error() string {
	return fmt.Sprintf("decryption.secretRef Secret %s/%s: %s (create it with the private keys as <name>.agekey or <name>.asc entries)",
		e.Namespace, e.Name, ReasonText(e.Err))
}

// Unwrap returns the cause.
func (e *DecryptionError) Unwrap() error { return e.Err }

// DecryptionKeys reads the Stack's decryption keys through r, from the
// Secret spec.decryption.secretRef names in the Stack's own namespace (the
// reference has no namespace: a Stack cannot read another namespace's
// keys). No spec.decryption means nil keys: an encrypted file then fails
// the render. spec.decryption without a secretRef means no keys at all.
func DecryptionKeys(ctx context.Context, r client.Reader, obj *v1alpha1.Stack) (*decrypt.Keys, error) {
	d := obj.Spec.Decryption
	if d == nil {
		return nil, nil
	}
	if d.SecretRef == nil {
		return decrypt.ParseKeys(nil)
	}
	var s corev1.Secret
	key := client.ObjectKey{Namespace: obj.Namespace, Name: d.SecretRef.Name}
	if err := r.Get(ctx, key, &s); err != nil {
		return nil, &DecryptionError{Namespace: key.Namespace, Name: key.Name, Err: err}
	}
	keys, err := decrypt.ParseKeys(s.Data)
	if err != nil {
		return nil, &DecryptionError{Namespace: key.Namespace, Name: key.Name, Err: err}
	}
	return keys, nil
}

// SetDecryption sets opts.Decryption to keys; nil keys leave it nil, so
// that the render knows no decryption is configured.
func SetDecryption(opts *render.Options, keys *decrypt.Keys) {
	if keys != nil {
		opts.Decryption = keys
	}
}

package controller

import (
	"context"
	"errors"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// renderInput is what a render needs besides the Stack and its source.
type renderInput struct {
	vars map[string]string
	keys *decrypt.Keys // nil: no decryption configured
}

// decryptionKeys reads the keys of spec.decryption. A Secret that is
// missing or unreadable is retried: it may be created after the Stack.
func (r *StackReconciler) decryptionKeys(ctx context.Context, obj *v1alpha1.Stack) (*decrypt.Keys, *failure) {
	keys, err := stackspec.DecryptionKeys(ctx, r.Client, obj)
	if err != nil {
		return nil, failed(v1alpha1.ReasonDecryptionFailed, err.Error())
	}
	return keys, nil
}

// decryptionFailure is the failure of a render that could not decrypt:
// nothing of the revision is applied and the last good state stays. Keys
// that do not fit are retried (the Secret may be fixed without a change to
// the Stack); anything else (no decryption configured, a file edited by
// hand, an encrypted patch) needs a new commit or spec, so the Stack is
// Stalled until then. msg is already redacted.
func decryptionFailure(obj *v1alpha1.Stack, revision, msg string, err error) *failure {
	msg = "decrypting " + stackspec.PathOrRoot(obj.Spec.Path) + " at " + revision + " failed, nothing was applied: " + msg
	if errors.Is(err, decrypt.ErrNoMatchingKey) || errors.Is(err, decrypt.ErrUnsupportedKey) {
		return failed(v1alpha1.ReasonDecryptionFailed, msg)
	}
	return stalled(v1alpha1.ReasonDecryptionFailed, msg)
}

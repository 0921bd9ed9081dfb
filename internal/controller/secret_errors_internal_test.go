package controller

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
)

func TestSecretErrorNamesKindAndField(t *testing.T) {
	cases := []struct {
		name string
		err  *secretError
		want []string
		not  []string
	}{
		{"defaults to a Secret of spec.secretRef", &secretError{name: "ns/creds"},
			[]string{"secret ns/creds not found", "spec.secretRef"}, nil},
		{"a Secret of spec.certSecretRef", &secretError{name: "ns/ca", field: "spec.certSecretRef"},
			[]string{"secret ns/ca not found", "spec.certSecretRef"}, []string{"spec.secretRef"}},
		{"a ServiceAccount", &secretError{kind: "ServiceAccount", name: "ns/sa", field: "spec.serviceAccountName"},
			[]string{"ServiceAccount ns/sa not found", "spec.serviceAccountName"}, []string{"secret", "secretRef"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not contain %q", msg, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("%q contains %q", msg, n)
				}
			}
		})
	}
}

func TestSecretKeyErrorRetriesAndNamesTheKey(t *testing.T) {
	missing := &secretKeyError{secret: "ns/signing", key: gitwrite.SigningKeyKey, field: "spec.git.commit.signingKey.secretRef"}
	parse := &secretKeyError{secret: "ns/signing", field: "spec.git.commit.signingKey.secretRef",
		err: fmt.Errorf("%w: not armored", gitwrite.ErrSigningKey)}
	cases := []struct {
		name    string
		err     error
		reason  string
		message []string
	}{
		{"key missing", missing, v1alpha1.ReasonSecretNotFound, []string{"ns/signing", "has no key git.asc", "spec.git.commit.signingKey.secretRef"}},
		{"key missing, wrapped", fmt.Errorf("preparing: %w", missing), v1alpha1.ReasonSecretNotFound, []string{"ns/signing"}},
		{"key unparsable", parse, v1alpha1.ReasonInvalidSpec, []string{"ns/signing", "not armored", "fix the Secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reason, stalled := imageUpdateFailure(tc.err)
			if reason != tc.reason || stalled {
				t.Errorf("reason %s stalled %v, want %s and a retry", reason, stalled, tc.reason)
			}
			for _, w := range tc.message {
				if !strings.Contains(tc.err.Error(), w) {
					t.Errorf("%q does not contain %q", tc.err.Error(), w)
				}
			}
		})
	}
	if !errors.Is(parse, gitwrite.ErrSigningKey) {
		t.Errorf("%v does not unwrap to gitwrite.ErrSigningKey", parse)
	}
	if reason, stalled := imageUpdateFailure(&specError{field: "spec.git.checkout.ref", msg: "names no branch"}); reason != v1alpha1.ReasonInvalidSpec || !stalled {
		t.Errorf("a spec error: reason %s stalled %v, want InvalidSpec and stalled", reason, stalled)
	}
}

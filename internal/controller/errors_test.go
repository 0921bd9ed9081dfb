package controller

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

func TestFailureReasonAndHint(t *testing.T) {
	withSecret := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "fleet"},
		Spec: v1alpha1.GitRepositorySpec{SecretRef: &v1alpha1.LocalObjectReference{Name: "git-auth"},
			Interval: metav1.Duration{Duration: time.Minute}},
	}
	noSecret := withSecret.DeepCopy()
	noSecret.Spec.SecretRef = nil
	wrap := func(e error) error { return &git.Error{Op: "fetch", URL: "https://h/r", Err: fmt.Errorf("%w: x", e)} }
	cases := []struct {
		name    string
		obj     *v1alpha1.GitRepository
		err     error
		reason  string
		stalled bool
		hint    string
	}{
		{"refused credentials name the secret", withSecret, wrap(git.ErrAuthentication), v1alpha1.ReasonAuthenticationFailed, false, "check the credentials in Secret team/git-auth"},
		{"credentials wanted but none given", noSecret, wrap(git.ErrAuthentication), v1alpha1.ReasonAuthenticationFailed, false, "the server wants credentials: set spec.secretRef to a Secret with them"},
		{"untrusted host key", withSecret, wrap(git.ErrHostKey), v1alpha1.ReasonAuthenticationFailed, false, "check known_hosts in Secret team/git-auth"},
		{"unusable secret is stalled", withSecret, wrap(git.ErrInvalidCredentials), v1alpha1.ReasonAuthenticationFailed, true, ""},
		{"bad range is stalled", withSecret, wrap(git.ErrInvalidReference), v1alpha1.ReasonInvalidSpec, true, ""},
		{"missing ref", withSecret, wrap(git.ErrRefNotFound), v1alpha1.ReasonRefNotFound, false, "check spec.ref"},
		{"unreachable retries on the interval", withSecret, wrap(git.ErrUnreachable), v1alpha1.ReasonGitOperationFailed, false, "check spec.url and that the server is reachable; retrying every 1m0s"},
		{"missing secret", withSecret, &secretError{name: "team/git-auth"}, v1alpha1.ReasonSecretNotFound, false, ""},
		{"store failure", withSecret, &storeError{revision: "r", err: fmt.Errorf("disk full")}, v1alpha1.ReasonArtifactFailed, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reason, stalled := failureReason(tc.err)
			if reason != tc.reason || stalled != tc.stalled {
				t.Errorf("failureReason = %s, stalled %v; want %s, %v", reason, stalled, tc.reason, tc.stalled)
			}
			if got := failureHint(tc.obj, tc.err); got != tc.hint {
				t.Errorf("hint = %q, want %q", got, tc.hint)
			}
		})
	}
}

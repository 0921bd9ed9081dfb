package controller

import (
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/image/registry"
)

func TestImageFailureReason(t *testing.T) {
	cases := []struct {
		err     error
		reason  string
		stalled bool
	}{
		{&secretError{name: "ns/creds"}, v1alpha1.ReasonSecretNotFound, false},
		{fmt.Errorf("%w: no key", errInvalidImageSecret), v1alpha1.ReasonInvalidSpec, true},
		{&registry.PatternError{Field: "spec.exclusionList[0]"}, v1alpha1.ReasonInvalidSpec, true},
		{&registry.TooManyTagsError{Count: 3, Max: 2}, v1alpha1.ReasonTooManyTags, true},
		{&registry.Error{Kind: registry.ErrAuthentication}, v1alpha1.ReasonAuthenticationFailed, false},
		{&registry.Error{Kind: registry.ErrTLS}, v1alpha1.ReasonAuthenticationFailed, false},
		{&registry.Error{Kind: registry.ErrUnreachable}, v1alpha1.ReasonRegistryUnreachable, false},
		{&registry.Error{Kind: registry.ErrNotFound}, v1alpha1.ReasonImageNotFound, false},
		{&registry.Error{Kind: registry.ErrRegistry}, v1alpha1.ReasonScanFailed, false},
		{errors.New("anything else"), v1alpha1.ReasonScanFailed, false},
	}
	for _, tc := range cases {
		reason, stalled := imageFailureReason(tc.err)
		if reason != tc.reason || stalled != tc.stalled {
			t.Errorf("%v: reason %s stalled %v, want %s %v", tc.err, reason, stalled, tc.reason, tc.stalled)
		}
	}
}

func TestPolicyDigestChangesWithWhatDecidesTheOrderOnly(t *testing.T) {
	spec := v1alpha1.ImagePolicySpec{
		ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "app"},
		Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "^1"}},
	}
	base := policyDigest(spec)
	same := spec
	same.DigestReflectionPolicy = v1alpha1.ReflectAlways
	if policyDigest(same) != base {
		t.Error("the digest reflection policy changed the policy digest")
	}
	for name, change := range map[string]func(*v1alpha1.ImagePolicySpec){
		"range":      func(s *v1alpha1.ImagePolicySpec) { s.Policy.SemVer = &v1alpha1.SemVerPolicy{Range: "^2"} },
		"filter":     func(s *v1alpha1.ImagePolicySpec) { s.FilterTags = &v1alpha1.TagFilter{Pattern: "x"} },
		"repository": func(s *v1alpha1.ImagePolicySpec) { s.ImageRepositoryRef.Name = "other" },
	} {
		changed := spec
		change(&changed)
		if policyDigest(changed) == base {
			t.Errorf("a change of the %s kept the policy digest", name)
		}
	}
}

func TestScanChangedPredicate(t *testing.T) {
	repo := func(rev string, at int64) *v1alpha1.ImageRepository {
		return &v1alpha1.ImageRepository{Status: v1alpha1.ImageRepositoryStatus{
			LastScanResult: &v1alpha1.ScanResult{Revision: rev, ScanTime: metav1.Unix(at, 0)}}}
	}
	p := scanChangedPredicate{}
	if p.Update(event.UpdateEvent{ObjectOld: repo("a", 1), ObjectNew: repo("a", 1)}) {
		t.Error("an update without a new scan passed")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: repo("a", 1), ObjectNew: repo("a", 2)}) {
		t.Error("a new scan with the same tags did not pass")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: repo("a", 1), ObjectNew: repo("b", 1)}) {
		t.Error("a new revision did not pass")
	}
}

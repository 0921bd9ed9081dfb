package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestKindForImageAndNotifyWords(t *testing.T) {
	cases := map[string]string{
		"imagerepository": v1alpha1.ImageRepositoryKind, "imagerepositories": v1alpha1.ImageRepositoryKind,
		"imgrepo": v1alpha1.ImageRepositoryKind, "image-repository": v1alpha1.ImageRepositoryKind,
		"ImageRepository": v1alpha1.ImageRepositoryKind,
		"imagepolicy":     v1alpha1.ImagePolicyKind, "imgpol": v1alpha1.ImagePolicyKind, "IMAGE-POLICY": v1alpha1.ImagePolicyKind,
		"imageupdate": v1alpha1.ImageUpdateKind, "image-update": v1alpha1.ImageUpdateKind, "ImageUpdates": v1alpha1.ImageUpdateKind,
		"provider": v1alpha1.ProviderKind, "Providers": v1alpha1.ProviderKind,
		"alert": v1alpha1.AlertKind, "receiver": v1alpha1.ReceiverKind, "receivers": v1alpha1.ReceiverKind,
		"gitrepo": v1alpha1.GitRepositoryKind, "gr": v1alpha1.GitRepositoryKind,
	}
	for word, want := range cases {
		k, err := kindFor(word)
		if err != nil || k.Kind != want {
			t.Errorf("kindFor(%q) = %q, %v; want %s", word, k.Kind, err, want)
		}
	}
}

func TestKindForRefusesOtherWords(t *testing.T) {
	for _, word := range []string{"", "image", "deployment", "stackz", "canary", " stack"} {
		_, err := kindFor(word)
		want := `unknown kind "` + word + `": use source or stack`
		if err == nil || err.Error() != want {
			t.Errorf("kindFor(%q) = %v, want %q", word, err, want)
		}
	}
}

// TestObjectKindsAreConsistent: each kind's object and list are of that
// kind, and no word names two kinds.
func TestObjectKindsAreConsistent(t *testing.T) {
	scheme := v1alpha1.NewScheme()
	owner := map[string]string{}
	for _, k := range objectKinds() {
		gvks, _, err := scheme.ObjectKinds(k.newObject())
		if err != nil || len(gvks) != 1 || gvks[0] != k.GVK() {
			t.Errorf("%s: newObject is %v (%v), want %v", k.Kind, gvks, err, k.GVK())
		}
		lists, _, err := scheme.ObjectKinds(k.newList())
		if err != nil || len(lists) != 1 || lists[0].Kind != k.Kind+"List" {
			t.Errorf("%s: newList is %v (%v), want %sList", k.Kind, lists, err, k.Kind)
		}
		if k.GVK().Group != v1alpha1.GroupVersion.Group || k.GVK().Version != v1alpha1.GroupVersion.Version {
			t.Errorf("%s: GVK %v is not in %v", k.Kind, k.GVK(), v1alpha1.GroupVersion)
		}
		for _, w := range append([]string{k.Arg, strings.ToLower(k.Kind)}, k.aliases...) {
			if prev, ok := owner[w]; ok && prev != k.Kind {
				t.Errorf("word %q names both %s and %s", w, prev, k.Kind)
			}
			owner[w] = k.Kind
		}
	}
}

func TestKindArgs(t *testing.T) {
	want := []string{"source", "sources", "stack", "stacks",
		"imagerepository", "imagerepositories", "imagepolicy", "imagepolicies", "imageupdate", "imageupdates",
		"provider", "providers", "alert", "alerts", "receiver", "receivers"}
	if diff := cmp.Diff(want, kindArgs()); diff != "" {
		t.Errorf("kindArgs (-want +got):\n%s", diff)
	}
	for _, w := range kindArgs() {
		if _, err := kindFor(w); err != nil {
			t.Errorf("kindArgs offers %q, which kindFor refuses: %v", w, err)
		}
	}
}

func TestStackAliases(t *testing.T) {
	got := stackAliases()
	if diff := cmp.Diff([]string{"stacks", "st"}, got); diff != "" {
		t.Errorf("stackAliases (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if again := stackAliases(); !slices.Equal(again, []string{"stacks", "st"}) {
		t.Errorf("changing the returned slice changed the kind's aliases: %v", again)
	}
}

func TestImageSubKind(t *testing.T) {
	cases := []struct {
		word string
		want string
		ok   bool
	}{
		{"repository", "imagerepository", true},
		{"repositories", "imagerepository", true},
		{"repo", "imagerepository", true},
		{"repos", "imagerepository", true},
		{"Policy", "imagepolicy", true},
		{"policies", "imagepolicy", true},
		{"update", "imageupdate", true},
		{"updates", "imageupdate", true},
		{"tag", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := imageSubKind(tc.word)
		if got != tc.want || ok != tc.ok {
			t.Errorf("imageSubKind(%q) = %q, %t; want %q, %t", tc.word, got, ok, tc.want, tc.ok)
		}
	}
}

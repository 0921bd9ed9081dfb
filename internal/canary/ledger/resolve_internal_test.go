package ledger

import (
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestCommitOf(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct{ name, revision, want string }{
		{"branch", "main@sha1:" + sha, sha},
		{"tag", "v1.2.0@sha1:" + sha, sha},
		{"commit alone", "sha1:" + sha, sha},
		{"empty", "", ""},
		{"short hash", "main@sha1:0123abc", ""},
		{"not hex", "main@sha1:" + sha[:39] + "z", ""},
		{"another algorithm", "main@sha256:" + sha, ""},
		{"sha1 inside a branch name", "fixsha1:" + sha, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := commitOf(tc.revision); got != tc.want {
				t.Errorf("commitOf(%q) = %q, want %q", tc.revision, got, tc.want)
			}
		})
	}
}

func TestSplitImage(t *testing.T) {
	cases := []struct{ image, repo, tag string }{
		{"registry.local:5000/team/app:v1.1.0", "registry.local:5000/team/app", "v1.1.0"},
		{"registry.local:5000/team/app:v1.1.0@sha256:abc", "registry.local:5000/team/app", "v1.1.0"},
		{"registry.local:5000/team/app", "registry.local:5000/team/app", ""},
		{"nginx", "nginx", ""},
		{"nginx:1.25", "nginx", "1.25"},
	}
	for _, tc := range cases {
		if repo, tag := splitImage(tc.image); repo != tc.repo || tag != tc.tag {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", tc.image, repo, tag, tc.repo, tc.tag)
		}
	}
}

func TestSameRepository(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"nginx", "docker.io/library/nginx", true},
		{"nginx", "index.docker.io/library/nginx", true},
		{"registry.local:5000/app", "registry.local:5000/app", true},
		{"registry.local:5000/app", "registry.local:5001/app", false},
		{"team/app", "other/app", false},
	}
	for _, tc := range cases {
		if got := sameRepository(tc.a, tc.b); got != tc.want {
			t.Errorf("sameRepository(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestChosenAmong(t *testing.T) {
	ref := &v1alpha1.ImageRef{Name: "docker.io/stefanprodan/podinfo", Tag: "6.5.1"}
	cases := []struct {
		name   string
		ref    *v1alpha1.ImageRef
		images []string
		want   string
	}{
		{"no policy choice", nil, []string{"stefanprodan/podinfo:6.5.1"}, ""},
		{"a choice without a tag", &v1alpha1.ImageRef{Name: "docker.io/stefanprodan/podinfo"}, []string{"stefanprodan/podinfo"}, ""},
		{"the image at that tag, short name", ref, []string{"stefanprodan/podinfo:6.5.1"}, "6.5.1"},
		{"a digest is ignored", ref, []string{"docker.io/stefanprodan/podinfo:6.5.1@sha256:0123"}, "6.5.1"},
		{"found among several images", ref, []string{"busybox:1.36", "index.docker.io/stefanprodan/podinfo:6.5.1"}, "6.5.1"},
		{"another tag", ref, []string{"stefanprodan/podinfo:6.5.0"}, ""},
		{"the same tag of another image", ref, []string{"stefanprodan/other:6.5.1"}, ""},
		{"the same path on another registry", ref, []string{"ghcr.io/stefanprodan/podinfo:6.5.1"}, ""},
		{"no images", ref, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := chosenAmong(tc.ref, tc.images); got != tc.want {
				t.Errorf("chosenAmong = %q, want %q", got, tc.want)
			}
		})
	}
}

package ledger

import "testing"

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

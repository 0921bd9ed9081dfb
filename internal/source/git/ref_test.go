package git

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReferenceKindAndString(t *testing.T) {
	cases := []struct {
		name       string
		ref        Reference
		wantKind   Kind
		wantString string
		wantBranch string
	}{
		{"empty reference is branch main", Reference{}, KindBranch, "branch main", "main"},
		{"branch only", Reference{Branch: "develop"}, KindBranch, "branch develop", "develop"},
		{"tag only", Reference{Tag: "v1.2.3"}, KindTag, "tag v1.2.3", "main"},
		{"semver only", Reference{SemVer: "^1.0"}, KindSemVer, "semver range ^1.0", "main"},
		{"commit only", Reference{Commit: "abc123"}, KindCommit, "commit abc123", "main"},
		{"tag wins over branch", Reference{Branch: "develop", Tag: "v1"}, KindTag, "tag v1", "develop"},
		{"semver wins over tag and branch", Reference{Branch: "develop", Tag: "v1", SemVer: ">=1"}, KindSemVer, "semver range >=1", "develop"},
		{"commit wins over everything", Reference{Branch: "develop", Tag: "v1", SemVer: ">=1", Commit: "deadbeef"}, KindCommit, "commit deadbeef", "develop"},
		{"commit wins over semver", Reference{SemVer: ">=1", Commit: "deadbeef"}, KindCommit, "commit deadbeef", "main"},
		{"commit with a branch", Reference{Branch: "release", Commit: "deadbeef"}, KindCommit, "commit deadbeef", "release"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := struct {
				Kind   Kind
				String string
				Branch string
			}{tc.ref.Kind(), tc.ref.String(), tc.ref.BranchOrDefault()}
			want := struct {
				Kind   Kind
				String string
				Branch string
			}{tc.wantKind, tc.wantString, tc.wantBranch}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%+v (-want +got):\n%s", tc.ref, diff)
			}
		})
	}
}

func TestReferenceStringWithFmt(t *testing.T) {
	// Reference is a fmt.Stringer, so %v and %s use String.
	if got := fmt.Sprintf("fetch %v", Reference{Tag: "v2"}); got != "fetch tag v2" {
		t.Errorf("Sprintf = %q", got)
	}
}

func TestRevision(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name, refName, commit, want string
	}{
		{"branch", "main", sha, "main@sha1:" + sha},
		{"branch with slash", "feature/x", sha, "feature/x@sha1:" + sha},
		{"tag", "v1.2.3", sha, "v1.2.3@sha1:" + sha},
		{"commit without a branch", "", sha, "sha1:" + sha},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Revision(tc.refName, tc.commit); got != tc.want {
				t.Errorf("Revision(%q, %q) = %q, want %q", tc.refName, tc.commit, got, tc.want)
			}
		})
	}
}

func TestNewestTag(t *testing.T) {
	cases := []struct {
		name       string
		tags       []string
		constraint string
		want       string
		wantErr    error
	}{
		{
			name:       "highest version in range, compared numerically",
			tags:       []string{"1.0.0", "1.2.0", "1.10.0", "1.9.9", "2.0.0"},
			constraint: "^1.0",
			want:       "1.10.0",
		},
		{
			name:       "order of the input does not matter",
			tags:       []string{"2.0.0", "1.10.0", "1.0.0", "1.9.9", "1.2.0"},
			constraint: "^1.0",
			want:       "1.10.0",
		},
		{
			name:       "leading v is allowed",
			tags:       []string{"v1.0.0", "v1.3.0", "v2.0.0"},
			constraint: "~1",
			want:       "v1.3.0",
		},
		{
			name:       "v and plain tags compete on version",
			tags:       []string{"v1.1.0", "1.2.0", "v1.1.5"},
			constraint: ">=1.0.0",
			want:       "1.2.0",
		},
		{
			name:       "upper bound of the range is honoured",
			tags:       []string{"1.0.0", "1.5.0", "2.0.0", "3.0.0"},
			constraint: ">=1.0.0 <2.0.0",
			want:       "1.5.0",
		},
		{
			name:       "exact version",
			tags:       []string{"1.0.0", "1.2.0", "1.3.0"},
			constraint: "=1.2.0",
			want:       "1.2.0",
		},
		{
			name:       "wildcard range picks the highest stable tag",
			tags:       []string{"0.1.0", "3.2.1", "3.3.0-beta.1", "1.0.0"},
			constraint: "*",
			want:       "3.2.1",
		},
		{
			name:       "tags that are not versions are skipped",
			tags:       []string{"latest", "release-9", "nightly", "v", "1.0.0", "foo-2.0.0", "v9.x"},
			constraint: ">=0.0.0",
			want:       "1.0.0",
		},
		{
			name:       "prerelease excluded when the range names none",
			tags:       []string{"1.0.0", "1.1.0-rc.1", "1.2.0-alpha"},
			constraint: ">=1.0.0",
			want:       "1.0.0",
		},
		{
			name:       "prerelease included when the range names one",
			tags:       []string{"1.0.0", "1.1.0-rc.1", "1.1.0-rc.2"},
			constraint: ">=1.1.0-0",
			want:       "1.1.0-rc.2",
		},
		{
			name:       "release beats its own prerelease",
			tags:       []string{"1.1.0-rc.1", "1.1.0", "1.1.0-rc.2"},
			constraint: ">=1.1.0-0",
			want:       "1.1.0",
		},
		{
			name:       "tie between 1.0.0 and v1.0.0 goes to the lexically greater",
			tags:       []string{"1.0.0", "v1.0.0"},
			constraint: "1.0.0",
			want:       "v1.0.0",
		},
		{
			name:       "tie-break does not depend on input order",
			tags:       []string{"v1.0.0", "1.0.0"},
			constraint: "1.0.0",
			want:       "v1.0.0",
		},
		{
			name:       "build metadata ties are broken lexically",
			tags:       []string{"1.0.0+build.2", "1.0.0+build.1"},
			constraint: "^1",
			want:       "1.0.0+build.2",
		},
		{
			name:       "only prereleases and a plain range",
			tags:       []string{"1.0.0-rc.1", "1.0.0-rc.2"},
			constraint: "^1.0.0",
			wantErr:    ErrRefNotFound,
		},
		{
			name:       "no tag in range",
			tags:       []string{"1.0.0", "1.1.0"},
			constraint: ">=2.0.0",
			wantErr:    ErrRefNotFound,
		},
		{
			name:       "no tags at all",
			tags:       nil,
			constraint: "*",
			wantErr:    ErrRefNotFound,
		},
		{
			name:       "only non-version tags",
			tags:       []string{"latest", "stable"},
			constraint: "*",
			wantErr:    ErrRefNotFound,
		},
		{
			name:       "range does not parse",
			tags:       []string{"1.0.0"},
			constraint: "not a range",
			wantErr:    ErrInvalidReference,
		},
		{
			name:       "range with a doubled operator",
			tags:       []string{"1.0.0"},
			constraint: ">>1.0.0",
			wantErr:    ErrInvalidReference,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewestTag(tc.tags, tc.constraint)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("NewestTag(%q, %q) = %q, %v; want an error wrapping %v", tc.tags, tc.constraint, got, err, tc.wantErr)
				}
				if got != "" {
					t.Errorf("NewestTag returned %q along with the error", got)
				}
				if !strings.Contains(err.Error(), tc.constraint) {
					t.Errorf("error %q does not name the range %q", err, tc.constraint)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewestTag(%q, %q): %v", tc.tags, tc.constraint, err)
			}
			if got != tc.want {
				t.Errorf("NewestTag(%q, %q) = %q, want %q", tc.tags, tc.constraint, got, tc.want)
			}
		})
	}
}

func TestNewestTagErrorsAreDistinct(t *testing.T) {
	_, err := NewestTag([]string{"1.0.0"}, "not a range")
	if errors.Is(err, ErrRefNotFound) {
		t.Errorf("an invalid range must not read as a missing ref: %v", err)
	}
	_, err = NewestTag([]string{"1.0.0"}, ">=5")
	if errors.Is(err, ErrInvalidReference) {
		t.Errorf("a range without a match must not read as an invalid reference: %v", err)
	}
}

func TestTagNames(t *testing.T) {
	cases := []struct {
		name string
		refs []string
		want []string
	}{
		{
			name: "keeps tags and drops everything else",
			refs: []string{
				"HEAD",
				"refs/heads/main",
				"refs/tags/v1.0.0",
				"refs/tags/v1.0.0^{}",
				"refs/remotes/origin/main",
				"refs/tags/release/2024",
				"refs/tags/release/2024^{}",
				"refs/tagsx/v9",
				"tags/v2",
				"refs/heads/refs/tags/v3",
			},
			want: []string{"v1.0.0", "release/2024"},
		},
		{
			name: "order is kept",
			refs: []string{"refs/tags/b", "refs/tags/a", "refs/tags/c"},
			want: []string{"b", "a", "c"},
		},
		{
			name: "only peeled entries",
			refs: []string{"refs/tags/v1^{}"},
			want: nil,
		},
		{
			name: "no refs",
			refs: nil,
			want: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tagNames(tc.refs)); diff != "" {
				t.Errorf("tagNames (-want +got):\n%s", diff)
			}
		})
	}
}

func ExampleNewestTag() {
	tags := []string{"v1.0.0", "v1.4.2", "v1.5.0-rc.1", "v2.0.0", "latest"}
	stable, _ := NewestTag(tags, "^1.0")
	fmt.Println(stable)
	withPre, _ := NewestTag(tags, ">=1.4.0-0 <2.0.0")
	fmt.Println(withPre)
	_, err := NewestTag(tags, ">=3")
	fmt.Println(errors.Is(err, ErrRefNotFound))
	// Output:
	// v1.4.2
	// v1.5.0-rc.1
	// true
}

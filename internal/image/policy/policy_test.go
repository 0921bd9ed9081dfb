package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func semverSpec(r string) v1alpha1.ImagePolicySpec {
	return v1alpha1.ImagePolicySpec{Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: r}}}
}

func alphabetical(o v1alpha1.SortOrder) v1alpha1.ImagePolicySpec {
	return v1alpha1.ImagePolicySpec{Policy: v1alpha1.ImagePolicyChoice{Alphabetical: &v1alpha1.AlphabeticalPolicy{Order: o}}}
}

func numerical(o v1alpha1.SortOrder) v1alpha1.ImagePolicySpec {
	return v1alpha1.ImagePolicySpec{Policy: v1alpha1.ImagePolicyChoice{Numerical: &v1alpha1.NumericalPolicy{Order: o}}}
}

func withFilter(s v1alpha1.ImagePolicySpec, pattern, extract string) v1alpha1.ImagePolicySpec {
	s.FilterTags = &v1alpha1.TagFilter{Pattern: pattern, Extract: extract}
	return s
}

func TestChoose(t *testing.T) {
	cases := []struct {
		name string
		spec v1alpha1.ImagePolicySpec
		tags []string
		want string
	}{
		{"semver highest in range ignoring non-versions", semverSpec(">=1.0.0 <2.0.0"),
			[]string{"1.0.0", "1.9.3", "1.10.0", "2.0.0", "latest", "main-abc"}, "1.10.0"},
		{"semver accepts a leading v", semverSpec("^1.x"), []string{"v1.2.0", "v1.3.0", "1.2.9"}, "v1.3.0"},
		{"semver excludes prereleases unless the range names one", semverSpec(">=1.0.0"), []string{"1.0.0", "1.1.0-rc.1"}, "1.0.0"},
		{"semver range with a prerelease", semverSpec(">=1.1.0-0"), []string{"1.0.0", "1.1.0-rc.1"}, "1.1.0-rc.1"},
		{"semver ties break on the tag, not the listing order", semverSpec("*"), []string{"v1.0.0", "1.0.0"}, "v1.0.0"},
		{"alphabetical asc chooses the last", alphabetical(v1alpha1.SortAscending), []string{"RELEASE.2024-01-01", "RELEASE.2025-03-01", "RELEASE.2024-12-31"}, "RELEASE.2025-03-01"},
		{"alphabetical desc chooses the first", alphabetical(v1alpha1.SortDescending), []string{"b", "a", "c"}, "a"},
		{"alphabetical with no order is asc", alphabetical(""), []string{"b", "a", "c"}, "c"},
		{"numerical asc chooses the highest number", numerical(v1alpha1.SortAscending), []string{"9", "10", "100", "11", "x"}, "100"},
		{"numerical desc chooses the lowest", numerical(v1alpha1.SortDescending), []string{"9", "10", "-1.5"}, "-1.5"},
		{"filter and extract a timestamp", withFilter(numerical(v1alpha1.SortAscending), `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, "$ts"),
			[]string{"main-abc123-1700000000", "main-def456-1710000000", "feature-x-1800000000", "main-0aa-99"}, "main-def456-1710000000"},
		{"extract with braces and a semver", withFilter(semverSpec("~2"), `^app-(?P<v>.*)$`, "${v}"),
			[]string{"app-2.1.0", "app-2.0.5", "app-3.0.0", "2.9.9"}, "app-2.1.0"},
		{"pattern without extract orders the whole tag", withFilter(alphabetical(""), `^prod-`, ""), []string{"prod-a", "prod-b", "staging-z"}, "prod-b"},
		{"no candidate", semverSpec("^5"), []string{"1.0.0", "latest"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			ex := p.Choose(tc.tags)
			if ex.Winner != tc.want {
				t.Fatalf("winner = %q, want %q (%+v)", ex.Winner, tc.want, ex)
			}
			if len(ex.Candidates)+len(ex.Excluded) != len(tc.tags) || ex.Considered != len(tc.tags) {
				t.Fatalf("candidates %v and excluded %v do not add up to the %d tags", ex.Candidates, ex.Excluded, len(tc.tags))
			}
		})
	}
}

func TestExplanationSaysWhatWasLeftOutAndWhy(t *testing.T) {
	p, err := New(withFilter(semverSpec(">=1.0.0 <2.0.0"), `^v?[0-9]`, ""))
	if err != nil {
		t.Fatal(err)
	}
	ex := p.Choose([]string{"1.2.0", "1.4.1", "2.0.0", "latest", "1.x-broken"})
	want := Explanation{
		Policy:     `semver range >=1.0.0 <2.0.0 of tags matching "^v?[0-9]"`,
		Considered: 5,
		Candidates: []string{"1.4.1", "1.2.0"},
		Excluded: []Excluded{
			{Tag: "1.x-broken", Reason: "not a semantic version"},
			{Tag: "2.0.0", Reason: "outside the range >=1.0.0 <2.0.0"},
			{Tag: "latest", Reason: "does not match spec.filterTags.pattern"},
		},
		Winner: "1.4.1", Value: "1.4.1",
		Why: `1.4.1 is first by semver range >=1.0.0 <2.0.0 of tags matching "^v?[0-9]" among 2 candidates; next was 1.2.0`,
	}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Fatalf("explanation (-want +got):\n%s", diff)
	}
	if got := ex.Summary(); got != "5 tags considered, 2 candidates, 1 does not match spec.filterTags.pattern, 1 not a semantic version, 1 outside the range >=1.0.0 <2.0.0" {
		t.Fatalf("summary = %q", got)
	}
}

func TestBadSpecNamesTheField(t *testing.T) {
	cases := map[string]v1alpha1.ImagePolicySpec{
		"spec.policy.semver.range": semverSpec(">=1.0 <<2"),
		"spec.filterTags.pattern":  withFilter(semverSpec("*"), `^(unclosed`, ""),
		"spec.policy":              {},
	}
	for field, spec := range cases {
		_, err := New(spec)
		var se *SpecError
		if !errors.As(err, &se) || se.Field != field || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
}

func TestCompareOrdersAsThePolicyDoes(t *testing.T) {
	p, err := New(semverSpec("*"))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := p.Compare("1.10.0", "1.9.0"); !ok || c <= 0 {
		t.Errorf("1.10.0 vs 1.9.0 = %d, %v", c, ok)
	}
	if c, ok := p.Compare("1.0.0", "2.0.0"); !ok || c >= 0 {
		t.Errorf("1.0.0 vs 2.0.0 = %d, %v", c, ok)
	}
	if _, ok := p.Compare("latest", "1.0.0"); ok {
		t.Error("a tag that is not a candidate compared")
	}
	d, _ := New(numerical(v1alpha1.SortDescending))
	if c, ok := d.Compare("1", "2"); !ok || c <= 0 {
		t.Errorf("numerical desc: 1 should be ahead of 2, got %d", c)
	}
}

func TestQuarantineLeavesTagsOut(t *testing.T) {
	p, err := New(semverSpec("^1"))
	if err != nil {
		t.Fatal(err)
	}
	q := p.Quarantine(map[string]string{"v1.1.0": "quarantined by Canary apps/podinfo"})
	ex := q.Choose([]string{"v1.0.0", "v1.1.0", "v0.9.0"})
	if ex.Winner != "v1.0.0" {
		t.Errorf("winner = %q, want v1.0.0 (v1.1.0 is quarantined)", ex.Winner)
	}
	want := []Excluded{{Tag: "v0.9.0", Reason: "outside the range ^1"}, {Tag: "v1.1.0", Reason: "quarantined by Canary apps/podinfo"}}
	if diff := cmp.Diff(want, ex.Excluded); diff != "" {
		t.Errorf("excluded (-want +got):\n%s", diff)
	}
	if _, ok := q.Compare("v1.0.0", "v1.1.0"); ok {
		t.Error("Compare ordered a quarantined tag")
	}
	if c, ok := p.Compare("v1.1.0", "v1.0.0"); !ok || c <= 0 {
		t.Errorf("the original policy is unchanged: Compare = %d, %v", c, ok)
	}
	if got := q.Quarantined("v1.1.0"); got == "" || p.Quarantined("v1.1.0") != "" {
		t.Errorf("Quarantined = %q on the copy, %q on the original", got, p.Quarantined("v1.1.0"))
	}
}

package policy

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func mustNew(t *testing.T, spec v1alpha1.ImagePolicySpec) *Policy {
	t.Helper()
	p, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		spec v1alpha1.ImagePolicySpec
		want string
	}{
		{"semver", semverSpec("^1.2"), "semver range ^1.2"},
		{"alphabetical asc", alphabetical(v1alpha1.SortAscending), "alphabetical order asc (highest wins)"},
		{"alphabetical desc", alphabetical(v1alpha1.SortDescending), "alphabetical order desc (lowest wins)"},
		{"numerical default", numerical(""), "numerical order asc (highest wins)"},
		{"numerical desc", numerical(v1alpha1.SortDescending), "numerical order desc (lowest wins)"},
		{"with a pattern", withFilter(semverSpec("*"), `^v`, ""), `semver range * of tags matching "^v"`},
		{"with a pattern and extract", withFilter(numerical(""), `^b-(?P<n>\d+)$`, "$n"), `numerical order asc (highest wins) of tags matching "^b-(?P<n>\\d+)$" (ordering "$n")`},
		{"an extract without a pattern is ignored", withFilter(semverSpec("*"), "", "$v"), "semver range *"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.spec).Describe(); got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChooseExplainsExtractedValues(t *testing.T) {
	p := mustNew(t, withFilter(numerical(""), `^main-[a-f0-9]+-(?P<ts>.*)$`, "$ts"))
	ex := p.Choose([]string{"main-aaa-100", "main-bbb-200", "main-ccc-soon", "release-1"})
	want := Explanation{
		Policy:     `numerical order asc (highest wins) of tags matching "^main-[a-f0-9]+-(?P<ts>.*)$" (ordering "$ts")`,
		Considered: 4,
		Candidates: []string{"main-bbb-200", "main-aaa-100"},
		Excluded: []Excluded{
			{Tag: "main-ccc-soon", Reason: `not a number (extracted "soon")`},
			{Tag: "release-1", Reason: "does not match spec.filterTags.pattern"},
		},
		Winner: "main-bbb-200",
		Value:  "200",
		Why:    `main-bbb-200 ("200") is first by numerical order asc (highest wins) of tags matching "^main-[a-f0-9]+-(?P<ts>.*)$" (ordering "$ts") among 2 candidates; next was main-aaa-100 ("100")`,
	}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
}

func TestChooseWithOneCandidateHasNoNext(t *testing.T) {
	ex := mustNew(t, semverSpec("^1")).Choose([]string{"1.0.0", "2.0.0"})
	if want := "1.0.0 is first by semver range ^1 among 1 candidates"; ex.Why != want {
		t.Errorf("why = %q, want %q", ex.Why, want)
	}
}

func TestChooseWithNoTags(t *testing.T) {
	ex := mustNew(t, semverSpec("*")).Choose(nil)
	want := Explanation{Policy: "semver range *", Why: "none of the 0 tags is a candidate for semver range *"}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
	if got := ex.Summary(); got != "0 tags considered, 0 candidates" {
		t.Errorf("summary = %q", got)
	}
}

func TestChooseLeavesOutOddTags(t *testing.T) {
	tests := []struct {
		name   string
		spec   v1alpha1.ImagePolicySpec
		tag    string
		reason string
	}{
		{"an empty tag", alphabetical(""), "", "empty, not a tag"},
		{"NaN is not a number", numerical(""), "NaN", "not a number"},
		{"a number with a suffix", numerical(""), "10-rc", "not a number"},
		{"a missing extract group expands to nothing", withFilter(numerical(""), `^b`, "$nosuch"), "b1", `not a number (extracted "")`},
		{"a version outside the range, extracted", withFilter(semverSpec("<1"), `^app-(?P<v>.*)$`, "$v"), "app-1.2.0", `outside the range <1 (extracted "1.2.0")`},
		{"a prerelease outside a plain range", semverSpec("^1"), "1.5.0-beta.1", "outside the range ^1"},
		{"four numbers are not semver", semverSpec("*"), "1.2.3.4", "not a semantic version"},
		{"a date reads as 2024.0.0 with a prerelease, outside a plain range", semverSpec("*"), "2024-01-01", "outside the range *"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := mustNew(t, tt.spec).Choose([]string{tt.tag})
			want := []Excluded{{Tag: tt.tag, Reason: tt.reason}}
			if diff := cmp.Diff(want, ex.Excluded); diff != "" || ex.Winner != "" {
				t.Errorf("winner %q, excluded (-want +got):\n%s", ex.Winner, diff)
			}
		})
	}
}

func TestChooseDoesNotDependOnTheListingOrder(t *testing.T) {
	tests := []struct {
		name string
		spec v1alpha1.ImagePolicySpec
		tags []string
		want []string
	}{
		{"semver equal versions by tag", semverSpec("*"), []string{"1.0.0", "v1.0.0", "1.0"}, []string{"v1.0.0", "1.0.0", "1.0"}},
		{"numerical equal numbers by tag", numerical(""), []string{"10", "1e1", "10.0"}, []string{"1e1", "10.0", "10"}},
		{"numerical desc equal numbers by tag too", numerical(v1alpha1.SortDescending), []string{"2", "1.0", "1"}, []string{"1.0", "1", "2"}},
		{"alphabetical is by bytes: capitals first", alphabetical(""), []string{"a", "B", "_"}, []string{"a", "_", "B"}},
		{"build metadata does not order semver; the tag does", semverSpec("*"), []string{"1.0.0+b", "1.0.0+a"}, []string{"1.0.0+b", "1.0.0+a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.spec)
			for _, order := range [][]string{tt.tags, reversed(tt.tags)} {
				if diff := cmp.Diff(tt.want, p.Choose(order).Candidates); diff != "" {
					t.Errorf("candidates of %q (-want +got):\n%s", order, diff)
				}
			}
		})
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestCompareIsAntisymmetricAndZeroForTheSameTag(t *testing.T) {
	p := mustNew(t, semverSpec("*"))
	if c, ok := p.Compare("1.0.0", "1.0.0"); !ok || c != 0 {
		t.Errorf("Compare(x, x) = %d, %v; want 0, true", c, ok)
	}
	ab, _ := p.Compare("v1.0.0", "1.0.0")
	ba, _ := p.Compare("1.0.0", "v1.0.0")
	if ab <= 0 || ba >= 0 {
		t.Errorf("equal versions: Compare = %d and %d, want v1.0.0 ahead as Choose has it", ab, ba)
	}
	if _, ok := p.Compare("1.0.0", ""); ok {
		t.Error("the empty tag compared")
	}
	f := mustNew(t, withFilter(alphabetical(""), `^prod-`, ""))
	if _, ok := f.Compare("prod-a", "dev-b"); ok {
		t.Error("a tag outside the pattern compared")
	}
}

func TestQuarantineWithAnEmptyReasonQuarantinesNothing(t *testing.T) {
	p := mustNew(t, semverSpec("*")).Quarantine(map[string]string{"2.0.0": ""})
	if ex := p.Choose([]string{"1.0.0", "2.0.0"}); ex.Winner != "2.0.0" {
		t.Errorf("winner = %q; a tag with no reason is not quarantined", ex.Winner)
	}
	if p.Quarantined("2.0.0") != "" || p.Quarantine(nil).Quarantined("x") != "" {
		t.Error("Quarantined reported a reason that is not there")
	}
}

func TestExcludedByReasonMostFrequentFirstThenByReason(t *testing.T) {
	ex := Explanation{Excluded: []Excluded{
		{Tag: "a", Reason: "z reason"},
		{Tag: "b", Reason: "b reason"},
		{Tag: "c", Reason: "b reason"},
		{Tag: "d", Reason: "a reason"},
		{Tag: "e", Reason: "z reason"},
		{Tag: "f", Reason: "m reason"},
	}}
	want := []ReasonCount{{"b reason", 2}, {"z reason", 2}, {"a reason", 1}, {"m reason", 1}}
	if diff := cmp.Diff(want, ex.ExcludedByReason()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if got := (Explanation{}).ExcludedByReason(); len(got) != 0 {
		t.Errorf("no exclusions: %v", got)
	}
}

func TestExplanationJSON(t *testing.T) {
	ex := mustNew(t, semverSpec("*")).Choose([]string{"1.0.0"})
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"policy":"semver range *","considered":1,"candidates":["1.0.0"],"winner":"1.0.0","value":"1.0.0","why":"1.0.0 is first by semver range * among 1 candidates"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	none, err := json.Marshal(mustNew(t, semverSpec("^9")).Choose([]string{"1.0.0"}))
	if err != nil {
		t.Fatal(err)
	}
	want = `{"policy":"semver range ^9","considered":1,"candidates":null,"excluded":[{"tag":"1.0.0","reason":"outside the range ^9"}],"winner":"","why":"none of the 1 tags is a candidate for semver range ^9"}`
	if string(none) != want {
		t.Errorf("JSON = %s\nwant   %s", none, want)
	}
}

func TestSpecErrorUnwrapsAndQuotesTheValue(t *testing.T) {
	_, err := New(withFilter(semverSpec("*"), `a[`, ""))
	se, ok := err.(*SpecError)
	if !ok {
		t.Fatalf("error = %T", err)
	}
	if se.Unwrap() == nil || se.Value != "a[" {
		t.Errorf("SpecError = %+v", se)
	}
	if want := `spec.filterTags.pattern: "a[" does not parse: error parsing regexp: missing closing ]: ` + "`[`"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	_, err = New(v1alpha1.ImagePolicySpec{})
	if want := `spec.policy: "" does not parse: set one of semver, alphabetical, numerical`; err == nil || err.Error() != want {
		t.Errorf("empty policy: %v", err)
	}
}

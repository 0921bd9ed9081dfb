package notify_test

import (
	"errors"
	"regexp/syntax"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

func alertWith(spec v1alpha1.AlertSpec) *v1alpha1.Alert {
	return &v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "ops"}, Spec: spec}
}

func TestNewFilterNamesTheBadExpression(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      v1alpha1.AlertSpec
		wantField string
		wantIndex int
		wantText  string
	}{
		{
			name:      "the second inclusion",
			spec:      v1alpha1.AlertSpec{InclusionList: []string{"ok", "(unclosed"}},
			wantField: "inclusionList", wantIndex: 1,
			wantText: "spec.inclusionList[1] is not a valid regular expression: error parsing regexp: missing closing ): `(unclosed`",
		},
		{
			name:      "an exclusion after good inclusions",
			spec:      v1alpha1.AlertSpec{InclusionList: []string{".*"}, ExclusionList: []string{"[z-a]"}},
			wantField: "exclusionList", wantIndex: 0,
			wantText: "spec.exclusionList[0] is not a valid regular expression: error parsing regexp: invalid character class range: `z-a`",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := notify.NewFilter(alertWith(tc.spec))
			var le *notify.ListError
			if !errors.As(err, &le) || f != nil {
				t.Fatalf("NewFilter = %v, %v; want a *ListError", f, err)
			}
			if le.Field != tc.wantField || le.Index != tc.wantIndex || err.Error() != tc.wantText {
				t.Errorf("error %s[%d] %q, want %s[%d] %q", le.Field, le.Index, err, tc.wantField, tc.wantIndex, tc.wantText)
			}
			var se *syntax.Error
			if !errors.As(err, &se) {
				t.Errorf("the regexp error is not wrapped: %v", err)
			}
		})
	}
}

func TestFilterPasses(t *testing.T) {
	for _, tc := range []struct {
		name             string
		include, exclude []string
		message          string
		want             bool
	}{
		{"no lists pass everything", nil, nil, "anything", true},
		{"an inclusion that matches", []string{"^apply"}, nil, "apply failed", true},
		{"no inclusion matches", []string{"^apply", "timeout"}, nil, "build failed", false},
		{"any inclusion is enough", []string{"^apply", "build"}, nil, "build failed", true},
		{"an exclusion that matches", nil, []string{"dry-run"}, "dry-run failed", false},
		{"an exclusion wins over an inclusion", []string{"failed"}, []string{"dry-run"}, "dry-run failed", false},
		{"an exclusion that does not match", nil, []string{"dry-run"}, "apply failed", true},
		{"an empty message against an inclusion", []string{"."}, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := notify.NewFilter(alertWith(v1alpha1.AlertSpec{InclusionList: tc.include, ExclusionList: tc.exclude}))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Passes(notify.Event{Message: tc.message}); got != tc.want {
				t.Errorf("Passes(%q) = %v, want %v", tc.message, got, tc.want)
			}
		})
	}
}

func TestFilterSelectsAndWantsInfo(t *testing.T) {
	f, err := notify.NewFilter(alertWith(v1alpha1.AlertSpec{
		EventSeverity: v1alpha1.EventSeverityError,
		EventSources: []v1alpha1.EventSourceReference{
			{Kind: "Stack", Name: "web"},
			{Kind: "GitRepository", Name: "*", Namespace: "flux-system"},
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		obj  notify.ObjectRef
		want bool
	}{
		{notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web"}, true},
		{notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "api"}, false},
		{notify.ObjectRef{Kind: "Stack", Namespace: "other", Name: "web"}, false},
		{notify.ObjectRef{Kind: "GitRepository", Namespace: "flux-system", Name: "fleet"}, true},
		{notify.ObjectRef{Kind: "GitRepository", Namespace: "apps", Name: "fleet"}, false},
	} {
		if got := f.Selects(notify.Event{Object: tc.obj}); got != tc.want {
			t.Errorf("Selects(%s) = %v, want %v", tc.obj, got, tc.want)
		}
	}
	if f.WantsInfo() {
		t.Error("WantsInfo with eventSeverity error: want false")
	}
	for _, sev := range []string{"", v1alpha1.EventSeverityInfo} {
		f, err := notify.NewFilter(alertWith(v1alpha1.AlertSpec{EventSeverity: sev}))
		if err != nil {
			t.Fatal(err)
		}
		if !f.WantsInfo() {
			t.Errorf("WantsInfo with eventSeverity %q: want true", sev)
		}
		if f.Selects(notify.Event{Object: notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web"}}) {
			t.Error("an Alert without sources selected an event")
		}
	}
}

func TestSourceMatches(t *testing.T) {
	web := notify.ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web"}
	prod := map[string]string{"tier": "frontend", "env": "prod"}
	for _, tc := range []struct {
		name   string
		ref    v1alpha1.EventSourceReference
		labels map[string]string
		want   bool
	}{
		{"the same name in the default namespace", v1alpha1.EventSourceReference{Kind: "Stack", Name: "web"}, nil, true},
		{"the namespace given", v1alpha1.EventSourceReference{Kind: "Stack", Name: "web", Namespace: "apps"}, nil, true},
		{"another namespace given", v1alpha1.EventSourceReference{Kind: "Stack", Name: "web", Namespace: "prod"}, nil, false},
		{"another kind", v1alpha1.EventSourceReference{Kind: "GitRepository", Name: "web"}, nil, false},
		{"kind is case-sensitive", v1alpha1.EventSourceReference{Kind: "stack", Name: "web"}, nil, false},
		{"another name", v1alpha1.EventSourceReference{Kind: "Stack", Name: "api"}, nil, false},
		{"a wildcard name", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"}, nil, true},
		{"a name pattern is not a glob", v1alpha1.EventSourceReference{Kind: "Stack", Name: "w*"}, nil, false},
		{"every label matches", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*", MatchLabels: map[string]string{"env": "prod"}}, prod, true},
		{"a label value differs", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*", MatchLabels: map[string]string{"env": "dev"}}, prod, false},
		{"a label is missing", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*", MatchLabels: map[string]string{"team": "a"}}, prod, false},
		{"labels asked of an object without any", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*", MatchLabels: map[string]string{"env": "prod"}}, nil, false},
		{"labels narrow a named source too", v1alpha1.EventSourceReference{Kind: "Stack", Name: "web", MatchLabels: map[string]string{"env": "dev"}}, prod, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notify.SourceMatches(tc.ref, "apps", web, tc.labels); got != tc.want {
				t.Errorf("SourceMatches = %v, want %v", got, tc.want)
			}
		})
	}
}

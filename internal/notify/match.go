package notify

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Filter is an Alert's selection of events, compiled.
type Filter struct {
	namespace string
	sources   []v1alpha1.EventSourceReference
	severity  string
	include   []*regexp.Regexp
	exclude   []*regexp.Regexp
}

// ListError is a regular expression of an Alert that does not compile.
type ListError struct {
	Field string
	Index int
	Err   error
}

func (e *ListError) Error() string {
	return fmt.Sprintf("spec.%s[%d] is not a valid regular expression: %v", e.Field, e.Index, e.Err)
}

func (e *ListError) Unwrap() error { return e.Err }

// NewFilter compiles alert's selection; a bad regular expression is a
// *ListError naming the field.
func NewFilter(alert *v1alpha1.Alert) (*Filter, error) {
	f := &Filter{namespace: alert.Namespace, sources: alert.Spec.EventSources, severity: alert.Spec.EventSeverity}
	var err error
	if f.include, err = compileAll("inclusionList", alert.Spec.InclusionList); err != nil {
		return nil, err
	}
	if f.exclude, err = compileAll("exclusionList", alert.Spec.ExclusionList); err != nil {
		return nil, err
	}
	return f, nil
}

func compileAll(field string, exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for i, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, &ListError{Field: field, Index: i, Err: err}
		}
		out = append(out, re)
	}
	return out, nil
}

// Selects reports whether the event's object is one of the Alert's sources.
func (f *Filter) Selects(ev Event) bool {
	for _, s := range f.sources {
		if SourceMatches(s, f.namespace, ev.Object, ev.Labels) {
			return true
		}
	}
	return false
}

// Passes reports whether the event's message passes the inclusion and
// exclusion lists.
func (f *Filter) Passes(ev Event) bool {
	if len(f.include) > 0 && !anyMatch(f.include, ev.Message) {
		return false
	}
	return !anyMatch(f.exclude, ev.Message)
}

// WantsInfo reports whether the Alert sends info events that end no episode.
func (f *Filter) WantsInfo() bool {
	return f.severity == "" || f.severity == v1alpha1.EventSeverityInfo
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// SourceMatches reports whether ref selects the object: the same kind, the
// same namespace (defaultNamespace when ref names none), the name or *, and
// every matchLabels label.
func SourceMatches(ref v1alpha1.EventSourceReference, defaultNamespace string, obj ObjectRef, objLabels map[string]string) bool {
	ns := ref.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	if ref.Kind != obj.Kind || ns != obj.Namespace {
		return false
	}
	if ref.Name != "*" && ref.Name != obj.Name {
		return false
	}
	return labels.SelectorFromSet(ref.MatchLabels).Matches(labels.Set(objLabels))
}

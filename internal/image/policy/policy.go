package policy

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/Masterminds/semver/v3"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// SpecError is a policy that cannot work as written: a semver range or a
// regular expression that does not parse. It names the field.
type SpecError struct {
	// Field is the spec field, such as spec.policy.semver.range.
	Field string
	// Value is the field's value.
	Value string
	Err   error
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("%s: %q does not parse: %v", e.Field, e.Value, e.Err)
}

func (e *SpecError) Unwrap() error { return e.Err }

// orderer ranks the values (tags, or what extract made of them) of one
// kind of policy.
type orderer interface {
	// parse returns the value's sort key, or a reason it is left out.
	parse(value string) (key any, reason string)
	// compare orders two keys; the greatest wins.
	compare(a, b any) int
	// describe says what the policy is, for explanations.
	describe() string
}

// Policy is a parsed ImagePolicy spec.
type Policy struct {
	order   orderer
	pattern *regexp.Regexp
	extract string
	// quarantine maps the tags never chosen to why.
	quarantine map[string]string
}

// Quarantine returns a copy of p that leaves out the tags of q (tag to
// why, such as "quarantined by Canary apps/podinfo"): they are never
// candidates, so Choose skips them and Compare does not order them.
func (p *Policy) Quarantine(q map[string]string) *Policy {
	c := *p
	c.quarantine = q
	return &c
}

// Quarantined says why tag is quarantined, "" when it is not.
func (p *Policy) Quarantined(tag string) string { return p.quarantine[tag] }

// New parses spec's policy and filterTags. A bad range or pattern is a
// *SpecError.
func New(spec v1alpha1.ImagePolicySpec) (*Policy, error) {
	p := &Policy{}
	if f := spec.FilterTags; f != nil && f.Pattern != "" {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return nil, &SpecError{Field: "spec.filterTags.pattern", Value: f.Pattern, Err: err}
		}
		p.pattern, p.extract = re, f.Extract
	}
	switch c := spec.Policy; {
	case c.SemVer != nil:
		constraint, err := semver.NewConstraint(c.SemVer.Range)
		if err != nil {
			return nil, &SpecError{Field: "spec.policy.semver.range", Value: c.SemVer.Range, Err: err}
		}
		p.order = semverOrder{raw: c.SemVer.Range, constraint: constraint}
	case c.Alphabetical != nil:
		p.order = alphabeticalOrder{desc: c.Alphabetical.Order == v1alpha1.SortDescending}
	case c.Numerical != nil:
		p.order = numericalOrder{desc: c.Numerical.Order == v1alpha1.SortDescending}
	default:
		return nil, &SpecError{Field: "spec.policy", Value: "", Err: fmt.Errorf("set one of semver, alphabetical, numerical")}
	}
	return p, nil
}

// semverOrder keeps the versions within a range; the highest wins.
type semverOrder struct {
	raw        string
	constraint *semver.Constraints
}

func (o semverOrder) parse(v string) (any, string) {
	ver, err := semver.NewVersion(v)
	if err != nil {
		return nil, "not a semantic version"
	}
	if !o.constraint.Check(ver) {
		return nil, "outside the range " + o.raw
	}
	return ver, ""
}

func (o semverOrder) compare(a, b any) int { return a.(*semver.Version).Compare(b.(*semver.Version)) }
func (o semverOrder) describe() string     { return "semver range " + o.raw }

// alphabeticalOrder orders by bytes; asc makes the last win, desc the first.
type alphabeticalOrder struct{ desc bool }

func (o alphabeticalOrder) parse(v string) (any, string) { return v, "" }

func (o alphabeticalOrder) compare(a, b any) int {
	c := cmp.Compare(a.(string), b.(string))
	if o.desc {
		return -c
	}
	return c
}

func (o alphabeticalOrder) describe() string { return "alphabetical order " + orderWord(o.desc) }

// numericalOrder orders numbers; asc makes the highest win, desc the lowest.
type numericalOrder struct{ desc bool }

func (o numericalOrder) parse(v string) (any, string) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f { // NaN orders nowhere
		return nil, "not a number"
	}
	return f, ""
}

func (o numericalOrder) compare(a, b any) int {
	c := cmp.Compare(a.(float64), b.(float64))
	if o.desc {
		return -c
	}
	return c
}

func (o numericalOrder) describe() string { return "numerical order " + orderWord(o.desc) }

func orderWord(desc bool) string {
	if desc {
		return "desc (lowest wins)"
	}
	return "asc (highest wins)"
}

// value is what the policy orders of a tag: the tag, or the extract
// template's expansion; ok is false when the pattern does not match.
func (p *Policy) value(tag string) (string, bool) {
	if p.pattern == nil {
		return tag, true
	}
	m := p.pattern.FindStringSubmatchIndex(tag)
	if m == nil {
		return "", false
	}
	if p.extract == "" {
		return tag, true
	}
	return string(p.pattern.ExpandString(nil, p.extract, tag, m)), true
}

// candidate is a tag the policy can choose.
type candidate struct {
	tag, value string
	key        any
}

// rank returns tag as a candidate, or why it is left out.
func (p *Policy) rank(tag string) (candidate, string) {
	if tag == "" {
		return candidate{}, "empty, not a tag"
	}
	if why := p.quarantine[tag]; why != "" {
		return candidate{}, why
	}
	v, ok := p.value(tag)
	if !ok {
		return candidate{}, "does not match spec.filterTags.pattern"
	}
	key, reason := p.order.parse(v)
	if reason != "" {
		if v != tag {
			reason = fmt.Sprintf("%s (extracted %q)", reason, v)
		}
		return candidate{}, reason
	}
	return candidate{tag: tag, value: v, key: key}, ""
}

// better orders candidates, best first: by key, then (for equal keys, such
// as 1.0.0 and v1.0.0) by the tag, so the choice never depends on the
// registry's listing order.
func (p *Policy) better(a, b candidate) int {
	if c := p.order.compare(b.key, a.key); c != 0 {
		return c
	}
	return cmp.Compare(b.tag, a.tag)
}

// Compare orders two tags as the policy does: positive when a is ahead of
// b (newer), negative when behind, zero when equal. ok is false when
// either is not a candidate of the policy.
func (p *Policy) Compare(a, b string) (c int, ok bool) {
	ca, ra := p.rank(a)
	cb, rb := p.rank(b)
	if ra != "" || rb != "" {
		return 0, false
	}
	return -p.better(ca, cb), true
}

// Describe says what the policy orders by, such as "semver range ^1.0".
func (p *Policy) Describe() string {
	d := p.order.describe()
	if p.pattern != nil {
		d += fmt.Sprintf(" of tags matching %q", p.pattern.String())
		if p.extract != "" {
			d += fmt.Sprintf(" (ordering %q)", p.extract)
		}
	}
	return d
}

// Choose returns the newest of tags and how it was chosen. Winner is
// empty when no tag is a candidate.
func (p *Policy) Choose(tags []string) Explanation {
	ex := Explanation{Policy: p.Describe(), Considered: len(tags)}
	var cands []candidate
	for _, t := range tags {
		c, reason := p.rank(t)
		if reason != "" {
			ex.Excluded = append(ex.Excluded, Excluded{Tag: t, Reason: reason})
			continue
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, p.better)
	slices.SortStableFunc(ex.Excluded, func(a, b Excluded) int { return cmp.Compare(a.Tag, b.Tag) })
	for _, c := range cands {
		ex.Candidates = append(ex.Candidates, c.tag)
	}
	if len(cands) == 0 {
		ex.Why = fmt.Sprintf("none of the %d tags is a candidate for %s", len(tags), ex.Policy)
		return ex
	}
	ex.Winner, ex.Value = cands[0].tag, cands[0].value
	ex.Why = fmt.Sprintf("%s is first by %s among %d candidates", quoteValue(cands[0]), ex.Policy, len(cands))
	if len(cands) > 1 {
		ex.Why += "; next was " + quoteValue(cands[1])
	}
	return ex
}

func quoteValue(c candidate) string {
	if c.value == c.tag {
		return c.tag
	}
	return fmt.Sprintf("%s (%q)", c.tag, c.value)
}

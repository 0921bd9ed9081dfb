package fleet

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// maxLineDiff bounds the lines of a multi-line string that get a line
// diff; a longer string is summarized.
const maxLineDiff = 2000

// comparison is the difference between two renders of one Stack.
type comparison struct {
	added, removed []ObjectRef
	changed        []ObjectChange
}

// compareObjects matches before and after by group, kind, namespace and
// name and diffs the matched pairs field by field. mask is applied to every
// value it reports (the redactor of the variables read from Secrets).
func compareObjects(before, after []*unstructured.Unstructured, mask func(string) string) comparison {
	c := comparison{added: []ObjectRef{}, removed: []ObjectRef{}, changed: []ObjectChange{}}
	old := indexObjects(before)
	seen := map[string]bool{}
	for _, a := range after {
		ref := refOf(a)
		seen[ref.key()] = true
		b, ok := old[ref.key()]
		if !ok {
			c.added = append(c.added, ref)
			continue
		}
		if fields := diffObject(b, a, mask); len(fields) > 0 {
			c.changed = append(c.changed, ObjectChange{Object: ref, Fields: fields})
		}
	}
	for _, b := range before {
		if ref := refOf(b); !seen[ref.key()] {
			c.removed = append(c.removed, ref)
		}
	}
	sortRefs(c.added)
	sortRefs(c.removed)
	sort.Slice(c.changed, func(i, j int) bool { return c.changed[i].Object.sortKey() < c.changed[j].Object.sortKey() })
	return c
}

func indexObjects(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		m[refOf(o).key()] = o
	}
	return m
}

func refOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// diffObject returns the changed fields of one object. Secrets are
// compared masked: their data keys show as hidden changes.
func diffObject(before, after *unstructured.Unstructured, mask func(string) string) []FieldChange {
	secret := redact.IsSecret(before) || redact.IsSecret(after)
	if secret {
		before, after = redact.MaskSecretPair(before, after)
	}
	var out []FieldChange
	diffValue("", before.Object, after.Object, &out)
	for i := range out {
		f := &out[i]
		if secret && (strings.HasPrefix(f.Path, "data.") || strings.HasPrefix(f.Path, "data[")) {
			f.Hidden, f.Before, f.After = true, "", ""
			if f.Op == FieldChanged {
				f.Lines = nil
			}
			continue
		}
		f.Before, f.After = mask(f.Before), mask(f.After)
		for j, l := range f.Lines {
			f.Lines[j] = mask(l)
		}
	}
	return out
}

// diffValue appends the differences between a and b at path p.
func diffValue(p string, a, b any, out *[]FieldChange) {
	switch {
	case a == nil && b == nil:
	case a == nil:
		*out = append(*out, FieldChange{Path: p, Op: FieldAdded, After: jsonValue(b)})
	case b == nil:
		*out = append(*out, FieldChange{Path: p, Op: FieldRemoved, Before: jsonValue(a)})
	default:
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if aok && bok {
			diffMaps(p, am, bm, out)
			return
		}
		al, aok := a.([]any)
		bl, bok := b.([]any)
		if aok && bok {
			diffLists(p, al, bl, out)
			return
		}
		if !equalValues(a, b) {
			*out = append(*out, scalarChange(p, a, b))
		}
	}
}

func diffMaps(p string, a, b map[string]any, out *[]FieldChange) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		diffValue(joinKey(p, k), a[k], b[k], out)
	}
}

// diffLists matches items by name when every item of both lists has a
// distinct one (containers, ports, env), by index otherwise.
func diffLists(p string, a, b []any, out *[]FieldChange) {
	an, aok := namedItems(a)
	bn, bok := namedItems(b)
	if aok && bok {
		names := make([]string, 0, len(an)+len(bn))
		for _, it := range a {
			names = append(names, itemName(it))
		}
		for _, it := range b {
			if _, ok := an[itemName(it)]; !ok {
				names = append(names, itemName(it))
			}
		}
		for _, n := range names {
			diffValue(fmt.Sprintf("%s[name=%s]", p, n), an[n], bn[n], out)
		}
		return
	}
	for i := range max(len(a), len(b)) {
		var x, y any
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		diffValue(fmt.Sprintf("%s[%d]", p, i), x, y, out)
	}
}

// namedItems indexes a list by its items' name field, if every item is a
// map with a distinct, non-empty string name.
func namedItems(l []any) (map[string]any, bool) {
	m := make(map[string]any, len(l))
	for _, it := range l {
		n := itemName(it)
		if n == "" {
			return nil, false
		}
		if _, dup := m[n]; dup {
			return nil, false
		}
		m[n] = it
	}
	return m, true
}

func itemName(it any) string {
	m, ok := it.(map[string]any)
	if !ok {
		return ""
	}
	n, _ := m["name"].(string)
	return n
}

// plainKey is a map key that reads well after a dot.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func joinKey(p, k string) string {
	if !plainKey.MatchString(k) {
		return fmt.Sprintf("%s[%q]", p, k)
	}
	if p == "" {
		return k
	}
	return p + "." + k
}

// equalValues compares scalars, numbers by value whatever their Go type.
func equalValues(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	return jsonValue(a) == jsonValue(b)
}

// scalarChange is a changed value; multi-line strings get a line diff.
func scalarChange(p string, a, b any) FieldChange {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok && (strings.Contains(as, "\n") || strings.Contains(bs, "\n")) {
		if lines := lineDiff(as, bs); lines != nil {
			return FieldChange{Path: p, Op: FieldChanged, Lines: lines}
		}
	}
	return FieldChange{Path: p, Op: FieldChanged, Before: jsonValue(a), After: jsonValue(b)}
}

// jsonValue is v as compact JSON.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lineDiff returns the lines removed ("- ") and added ("+ ") between two
// texts, in order, or nil when they are too long to diff.
func lineDiff(a, b string) []string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > maxLineDiff || len(y) > maxLineDiff {
		return nil
	}
	// Longest common subsequence, by dynamic programming from the end.
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+x[i])
			i++
		default:
			out = append(out, "+ "+y[j])
			j++
		}
	}
	return out
}

package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/render"
)

// A Stack with postBuild variables is rendered through a shared render:
// internal/render runs kustomize first and substitutes after, on
// kustomize's output, so the kustomize build of a base does not depend on
// the variables' values. The shared render is the Stack's render with each
// variable's value replaced by a placeholder; it runs once per set of
// inputs, options and variable names, and each cluster's objects are a
// copy of it with its own values in place of the placeholders.
//
// That copy is what internal/render gives for those values only where a
// value cannot change more than the text of a string. Where it can, the
// copy is refused and the cluster's Stack is rendered on its own:
//
//   - a value of invalid UTF-8 is an error of the render;
//   - a plain scalar is typed again after substitution (replicas: ${N} is
//     a number), so a string whose new text YAML would type as a number,
//     boolean or null may not be a string;
//   - mapping keys that become equal, objects whose identities become
//     equal, and an object left without apiVersion, kind or name are
//     errors of the render;
//   - a shared render that fails says nothing of each cluster's.

// placeholderMark starts every placeholder; a random token follows, so no
// repository can hold a placeholder.
const placeholderMark = "zflotillavar"

// placeholders stand for the variables of shared renders, one per name.
type placeholders struct {
	prefix string // placeholderMark and the token of this plan
}

func newPlaceholders() placeholders {
	return placeholders{prefix: placeholderMark + rand.Text()}
}

// of is the placeholder of the variable name: the prefix, then x, the name
// in hex and z. Neither x nor z is a hex digit, so no placeholder runs
// into another and the replacement cannot be ambiguous.
func (p placeholders) of(name string) string {
	return p.prefix + "x" + hex.EncodeToString([]byte(name)) + "z"
}

// sharedJob is the shared render a job's objects are made from.
type sharedJob struct {
	key    string
	opts   render.Options
	values *strings.Replacer // placeholder -> value
	mark   string            // what every placeholder starts with
}

// shared returns the shared render of a render with opts, or nil when
// opts cannot use one (no variables, or a value that is not text).
func (p placeholders) shared(digest string, opts render.Options) *sharedJob {
	if len(opts.Substitute) == 0 {
		return nil
	}
	vars := make(map[string]string, len(opts.Substitute))
	pairs := make([]string, 0, 2*len(opts.Substitute))
	for name, value := range opts.Substitute {
		if !utf8.ValidString(value) {
			return nil
		}
		vars[name] = p.of(name)
		pairs = append(pairs, vars[name], value)
	}
	opts.Substitute = vars
	return &sharedJob{key: renderKey(digest, opts), opts: opts, values: strings.NewReplacer(pairs...), mark: p.prefix}
}

// instance returns objs with the job's values in place of the
// placeholders, or false when those values would not render the same
// through internal/render. Objects without placeholders are shared, not
// copied.
func (sj *sharedJob) instance(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, bool) {
	out := make([]*unstructured.Unstructured, len(objs))
	ids := make(map[objectID]bool, len(objs))
	for i, u := range objs {
		m, changed, ok := sj.mapping(u.Object)
		if !ok {
			return nil, false
		}
		out[i] = u
		if changed {
			out[i] = &unstructured.Unstructured{Object: m}
		}
		id, ok := renderIdentity(out[i])
		if !ok || ids[id] {
			return nil, false
		}
		ids[id] = true
	}
	return out, true
}

// objectID is what internal/render refuses to see twice in one render.
type objectID struct{ group, kind, namespace, name string }

// renderIdentity returns u's identity, or false when u lacks apiVersion, kind
// or name.
func renderIdentity(u *unstructured.Unstructured) (objectID, bool) {
	if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
		return objectID{}, false
	}
	gvk := u.GroupVersionKind()
	return objectID{gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName()}, true
}

// value replaces the placeholders in v; changed says whether it did (v is
// then copied, never modified).
func (sj *sharedJob) value(v any) (out any, changed, ok bool) {
	switch v := v.(type) {
	case string:
		if !strings.Contains(v, sj.mark) {
			return v, false, true
		}
		s := sj.values.Replace(v)
		return s, true, typedAsString(s)
	case map[string]any:
		return sj.mapping(v)
	case []any:
		return sj.sequence(v)
	}
	return v, false, true // numbers, booleans and null hold no placeholder
}

// mapping replaces the placeholders in m's keys (never typed again) and
// values; keys that become equal refuse the copy.
func (sj *sharedJob) mapping(m map[string]any) (map[string]any, bool, bool) {
	var out map[string]any
	for k, v := range m {
		nv, vChanged, ok := sj.value(v)
		if !ok {
			return nil, false, false
		}
		nk := k
		if strings.Contains(k, sj.mark) {
			nk = sj.values.Replace(k)
		}
		if out == nil && (vChanged || nk != k) {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				if !strings.Contains(k2, sj.mark) {
					out[k2] = v2
				}
			}
		}
		if out == nil {
			continue
		}
		if _, dup := out[nk]; dup && nk != k {
			return nil, false, false
		}
		out[nk] = nv
	}
	if out == nil {
		return m, false, true
	}
	return out, true, len(out) == len(m)
}

func (sj *sharedJob) sequence(s []any) ([]any, bool, bool) {
	var out []any
	for i, v := range s {
		nv, changed, ok := sj.value(v)
		if !ok {
			return nil, false, false
		}
		if changed && out == nil {
			out = append(make([]any, 0, len(s)), s...)
		}
		if out != nil {
			out[i] = nv
		}
	}
	if out == nil {
		return s, false, true
	}
	return out, true, true
}

// typedAsString says whether s, written as a plain YAML scalar, is a
// string: a substituted plain scalar whose text is a number, boolean or
// null becomes one in internal/render, so its copy cannot stay a string.
// Multi-line text always stays a string.
func typedAsString(s string) bool {
	if strings.ContainsAny(s, "\n\r") {
		return true
	}
	probe := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	return probe.ShortTag() == yaml.NodeTagString
}

package fleet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/render"
)

// testPlaceholders have a fixed token, so a test can write them out.
var testPlaceholders = placeholders{prefix: placeholderMark + "TOKEN"}

// sharedOf is the shared job of a render with vars, failing if there is none.
func sharedOf(t *testing.T, vars map[string]string) *sharedJob {
	t.Helper()
	sj := testPlaceholders.shared("digest", render.Options{Path: "apps", Substitute: vars})
	if sj == nil {
		t.Fatalf("no shared render for %v", vars)
	}
	return sj
}

// ph is the placeholder of name under testPlaceholders.
func ph(name string) string { return testPlaceholders.of(name) }

func TestPlaceholderOfIsTheNameInHexBetweenXAndZ(t *testing.T) {
	for name, want := range map[string]string{
		"A":            "zflotillavarTOKENx41z",
		"CLUSTER_NAME": "zflotillavarTOKENx434c55535445525f4e414d45z",
		"":             "zflotillavarTOKENxz",
	} {
		if got := testPlaceholders.of(name); got != want {
			t.Errorf("of(%q) = %q, want %q", name, got, want)
		}
	}
	if p := newPlaceholders(); !strings.HasPrefix(p.prefix, placeholderMark) || len(p.prefix) <= len(placeholderMark) {
		t.Errorf("prefix %q: want the mark and a random token after it", p.prefix)
	}
}

func TestSharedJobOfOptions(t *testing.T) {
	opts := render.Options{Path: "apps", TargetNamespace: "web", Substitute: map[string]string{"A": "1", "B": "two"}}
	sj := testPlaceholders.shared("digest", opts)
	if sj == nil {
		t.Fatal("options with variables have no shared render")
	}
	want := map[string]string{"A": ph("A"), "B": ph("B")}
	if diff := cmp.Diff(want, sj.opts.Substitute); diff != "" {
		t.Errorf("the shared render substitutes (-want +got):\n%s", diff)
	}
	if sj.opts.Path != "apps" || sj.opts.TargetNamespace != "web" {
		t.Errorf("the shared render lost the other options: %+v", sj.opts)
	}
	if opts.Substitute["A"] != "1" {
		t.Error("shared modified the caller's variables")
	}
	if sj.mark != testPlaceholders.prefix {
		t.Errorf("mark = %q, want the prefix %q", sj.mark, testPlaceholders.prefix)
	}
	other := testPlaceholders.shared("digest", render.Options{Path: "apps", TargetNamespace: "web", Substitute: map[string]string{"A": "9", "B": "nine"}})
	if other.key != sj.key {
		t.Error("two clusters' values of the same variables give two shared renders: the base would render once per cluster")
	}
	renamed := testPlaceholders.shared("digest", render.Options{Path: "apps", TargetNamespace: "web", Substitute: map[string]string{"A": "1", "C": "two"}})
	if renamed.key == sj.key {
		t.Error("other variable names share one shared render")
	}
	if got := sj.values.Replace(ph("A") + "-" + ph("B")); got != "1-two" {
		t.Errorf("values replace to %q, want 1-two", got)
	}
}

func TestNoSharedJob(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"no variables":                   nil,
		"an empty set of variables":      {},
		"a value that is not UTF-8":      {"A": "ok", "B": "\xff\xfe"},
		"a lone invalid value is enough": {"A": "\xc3"},
	} {
		if sj := testPlaceholders.shared("digest", render.Options{Path: "apps", Substitute: vars}); sj != nil {
			t.Errorf("%s: shared render %+v, want none (the Stack renders on its own)", name, sj.opts.Substitute)
		}
	}
}

func TestSharedInstancePutsEachValueIn(t *testing.T) {
	sj := sharedOf(t, map[string]string{"NAME": "prod", "REGION": "eu-west-1", "MOTD": "a\nb", "N": "3"})
	in := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-"+ph("NAME")+"\n  namespace: apps\n  labels:\n    region-"+ph("REGION")+": 'yes'\n"+
		"data:\n  where: "+ph("NAME")+"."+ph("REGION")+"\n  motd: "+ph("MOTD")+"\n  count: replicas-"+ph("N")+"\n  list: ['"+ph("NAME")+"', plain, 7]\n")
	out, ok := sj.instance([]*unstructured.Unstructured{in})
	if !ok {
		t.Fatal("values that are text were refused")
	}
	want := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-prod\n  namespace: apps\n  labels:\n    region-eu-west-1: 'yes'\n"+
		"data:\n  where: prod.eu-west-1\n  motd: \"a\\nb\"\n  count: replicas-3\n  list: [prod, plain, 7]\n")
	if diff := cmp.Diff(want.Object, out[0].Object); diff != "" {
		t.Errorf("instance (-want +got):\n%s", diff)
	}
	if !strings.Contains(in.GetName(), ph("NAME")) {
		t.Errorf("the shared render's object was modified: its name is now %q", in.GetName())
	}
}

func TestSharedInstanceSharesObjectsWithoutPlaceholders(t *testing.T) {
	sj := sharedOf(t, map[string]string{"A": "x"})
	plain := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n")
	templated := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: templated}\ndata: {a: "+ph("A")+"}\n")
	out, ok := sj.instance([]*unstructured.Unstructured{plain, templated})
	if !ok {
		t.Fatal("instance refused")
	}
	if out[0] != plain {
		t.Error("an object without placeholders was copied: fifty clusters would hold fifty copies of the base")
	}
	if out[1] == templated {
		t.Error("an object with placeholders was modified in place, not copied")
	}
	if got, _, _ := unstructured.NestedString(out[1].Object, "data", "a"); got != "x" {
		t.Errorf("data.a = %q, want x", got)
	}
}

// TestSharedInstanceRefusesWhatRendersOtherwise lists what render.Build
// does with a value beyond putting its text in: each case is refused, and
// the Stack renders on its own.
func TestSharedInstanceRefusesWhatRendersOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		docs  []string
	}{
		{"a number in a plain scalar", "3", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: " + ph("V") + "}\n"}},
		{"a boolean", "true", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: " + ph("V") + "}\n"}},
		{"null", "null", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: " + ph("V") + "}\n"}},
		{"a tilde is null too", "~", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: " + ph("V") + "}\n"}},
		{"a number inside a list", "0x1F", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {l: [" + ph("V") + "]}\n"}},
		{"two keys that become one", "b", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {b: '1', " + ph("V") + ": '2'}\n"}},
		{"two objects that become one", "b", []string{
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + ph("V") + "}\n",
		}},
		{"an empty value is null", "", []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: " + ph("V") + "}\n"}},
		{"an object without a name, as render.Build refuses it", "x", []string{
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: " + ph("V") + "}}\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sj := sharedOf(t, map[string]string{"V": tc.value})
			var objs []*unstructured.Unstructured
			for _, d := range tc.docs {
				objs = append(objs, obj(t, d))
			}
			if out, ok := sj.instance(objs); ok {
				t.Errorf("instance with V=%q accepted: %v", tc.value, out)
			}
		})
	}
}

func TestSharedInstanceKeepsTextThatStaysText(t *testing.T) {
	for _, value := range []string{"3 replicas", "v1.2.3", "yes please", "a\n3", "0.0.0.0/0", ""} {
		t.Run(value, func(t *testing.T) {
			sj := sharedOf(t, map[string]string{"V": value})
			in := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {text: x"+ph("V")+"}\n")
			out, ok := sj.instance([]*unstructured.Unstructured{in})
			if !ok {
				t.Fatalf("x%s refused: it is a string in YAML", value)
			}
			if got, _, _ := unstructured.NestedString(out[0].Object, "data", "text"); got != "x"+value {
				t.Errorf("data.text = %q, want %q", got, "x"+value)
			}
		})
	}
}

func TestRenderIdentity(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      objectID
		ok        bool
	}{
		{"a namespaced object of a group", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n", objectID{"apps", "Deployment", "a", "web"}, true},
		{"a core object without a namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", objectID{"", "Namespace", "", "a"}, true},
		{"the version is not part of it", "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: web, namespace: a}\n", objectID{"apps", "Deployment", "a", "web"}, true},
		{"no apiVersion", "kind: ConfigMap\nmetadata: {name: a}\n", objectID{}, false},
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", objectID{}, false},
		{"no name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n", objectID{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := renderIdentity(obj(t, tc.doc))
			if got != tc.want || ok != tc.ok {
				t.Errorf("renderIdentity = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTypedAsString(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"web", true},
		{"", false}, // an empty plain scalar is null
		{"1", false},
		{"-1.5e3", false},
		{"0o17", false},
		{".inf", false},
		{"false", false},
		{"True", false},
		{"NULL", false},
		{"~", false},
		{"1.2.3", true},
		{"1\n2", true}, // multi-line text stays a string
		{"true\r", true},
	} {
		if got := typedAsString(tc.s); got != tc.want {
			t.Errorf("typedAsString(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

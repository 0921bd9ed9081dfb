package install

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// What Write prints decodes back to the very objects Objects returned, in
// the same order: `flotilla install --export | kubectl apply -f -` applies
// what `flotilla install` would.
func TestWriteThenDecodeGivesTheSameObjects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
	}{
		{"defaults", func(*Options) {}},
		{"cluster admin in another namespace", func(o *Options) { o.ClusterAdmin, o.Namespace = true, "fleet-agent" }},
		{"two replicas", func(o *Options) { o.Replicas = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			tc.mutate(&o)
			objs, err := Objects(o)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, objs); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "---\n"); n != len(objs) {
				t.Errorf("%d document separators for %d objects", n, len(objs))
			}
			back, err := decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(identities(objs), identities(back)); diff != "" {
				t.Fatalf("objects read back (-want +got):\n%s", diff)
			}
			// Compared as JSON: YAML decodes every number as float64.
			for i := range objs {
				want, _ := json.Marshal(objs[i].Object)
				got, _ := json.Marshal(back[i].Object)
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s changed through YAML (-want +got):\n%s", apply.MetadataOf(objs[i]), diff)
				}
			}
		})
	}
}

func identities(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, u := range objs {
		out = append(out, apply.MetadataOf(u).String())
	}
	return out
}

func TestObjectsRefusesInvalidOptionsNamingTheOption(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"a namespace with capitals", func(o *Options) { o.Namespace = "Flotilla" }, `namespace "Flotilla" is not a valid namespace name`},
		{"no image", func(o *Options) { o.Image = "" }, "image is empty: pass --image"},
		{"an image with spaces", func(o *Options) { o.Image = "not an image" }, `image "not an image" is not an image reference`},
		{"negative replicas", func(o *Options) { o.Replicas = -1 }, "replicas must be at least 1, got -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			tc.mutate(&o)
			objs, err := Objects(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Objects = %d objects, %v; want an error saying %q", len(objs), err, tc.want)
			}
			if objs != nil {
				t.Errorf("Objects returned %d objects with its error", len(objs))
			}
		})
	}
}

func TestDecodeRefusesABrokenDocumentAndSkipsEmptyOnes(t *testing.T) {
	objs, err := decode([]byte("---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n"))
	if err != nil || len(objs) != 1 || objs[0].GetName() != "a" {
		t.Errorf("decode = %v, %v; want the one ConfigMap", objs, err)
	}
	if _, err := decode([]byte("apiVersion: v1\nkind: [ConfigMap\n")); err == nil {
		t.Error("decode accepted a broken document")
	}
}

package setters_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

// propertyInputs are marked files in the shapes repositories hold them.
var propertyInputs = map[string]string{
	"deployment-containers": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/stefanprodan/podinfo:6.0.0 # {"$imagepolicy": "apps:podinfo"}
      - name: proxy
        image: "docker.io/library/nginx:1.25.0" # {"$imagepolicy": "apps:nginx"}
      initContainers:
      - image: 'registry.local/app:1.9' # {"$imagepolicy": "apps:numeric"}
        name: migrate
`,
	"kustomization-split-fields": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
- name: podinfo
  newName: old/podinfo # {"$imagepolicy": "apps:podinfo:name"}
  newTag: 6.0.0 # {"$imagepolicy": "apps:podinfo:tag"}
  digest: sha256:00 # {"$imagepolicy": "apps:podinfo:digest"}
- name: app
  newTag: "1.9" # {"$imagepolicy": "apps:numeric:tag"}
`,
	"helm-values-across-documents": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: proxy
spec:
  values:
    image:
      repository: docker.io/library/nginx # {"$imagepolicy": "apps:nginx:name"}
      tag: 1.25.0 # {"$imagepolicy": "apps:nginx:tag"}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: registry.local/app:1.0 # {"$imagepolicy": "apps:numeric"}
`,
}

// The changes SetFile reports are exactly the edit it made: splicing each
// NewText over OldLen bytes at Offset of the input gives the output.
func TestSetFileChangesDescribeTheEdit(t *testing.T) {
	for name, in := range propertyInputs {
		t.Run(name, func(t *testing.T) {
			out, changes, warnings := setters.SetFile(name+".yaml", []byte(in), testPolicies)
			if len(warnings) != 0 {
				t.Fatalf("warnings: %v", warnings)
			}
			if len(changes) == 0 {
				t.Fatal("no changes")
			}
			var b strings.Builder
			at := 0
			for _, c := range changes {
				if c.Offset < at {
					t.Fatalf("changes out of order at offset %d", c.Offset)
				}
				if old := in[c.Offset : c.Offset+c.OldLen]; strings.Trim(old, `"'`) != c.OldValue {
					t.Errorf("line %d: bytes %q at the offset are not the old value %q", c.Line, old, c.OldValue)
				}
				if got := strings.Count(in[:c.Offset], "\n") + 1; got != c.Line {
					t.Errorf("change %q reports line %d, its offset is on line %d", c.NewValue, c.Line, got)
				}
				b.WriteString(in[at:c.Offset])
				b.WriteString(c.NewText)
				at = c.Offset + c.OldLen
			}
			b.WriteString(in[at:])
			if b.String() != string(out) {
				t.Errorf("splicing the changes gives\n%s\nSetFile wrote\n%s", b.String(), out)
			}
		})
	}
}

// A second run over the output changes nothing: the values are current.
func TestSetFileIsIdempotent(t *testing.T) {
	for name, in := range propertyInputs {
		t.Run(name, func(t *testing.T) {
			once, _, _ := setters.SetFile(name+".yaml", []byte(in), testPolicies)
			twice, changes, warnings := setters.SetFile(name+".yaml", once, testPolicies)
			if len(changes) != 0 || len(warnings) != 0 || string(twice) != string(once) {
				t.Errorf("second run: changes %+v warnings %v, output changed: %v", changes, warnings, string(twice) != string(once))
			}
		})
	}
}

// The output is still YAML, its documents decode as before but for the
// marked values, and each marked value reads back as the string it was
// set to (a tag like 1.10 stays a string, not the number 1.1).
func TestSetFileOutputReadsBackAsTheNewValues(t *testing.T) {
	for name, in := range propertyInputs {
		t.Run(name, func(t *testing.T) {
			out, changes, _ := setters.SetFile(name+".yaml", []byte(in), testPolicies)
			inDocs, outDocs := strings.Split(in, "\n---\n"), strings.Split(string(out), "\n---\n")
			if len(inDocs) != len(outDocs) {
				t.Fatalf("%d documents became %d", len(inDocs), len(outDocs))
			}
			var outText strings.Builder
			for i := range outDocs {
				var before, after map[string]any
				if err := yaml.Unmarshal([]byte(inDocs[i]), &before); err != nil {
					t.Fatalf("input document %d: %v", i, err)
				}
				if err := yaml.Unmarshal([]byte(outDocs[i]), &after); err != nil {
					t.Fatalf("output document %d is not YAML: %v\n%s", i, err, outDocs[i])
				}
				if before["kind"] != after["kind"] || cmp.Diff(before["metadata"], after["metadata"]) != "" {
					t.Errorf("document %d: kind or metadata changed", i)
				}
				js, _ := yaml.Marshal(after)
				outText.Write(js)
			}
			for _, c := range changes {
				if !strings.Contains(outText.String(), ": "+yamlString(t, c.NewValue)) {
					t.Errorf("the output does not hold the string %q as a value:\n%s", c.NewValue, outText.String())
				}
			}
		})
	}
}

// yamlString is s as sigs.k8s.io/yaml writes a string value.
func yamlString(t *testing.T, s string) string {
	t.Helper()
	b, err := yaml.Marshal(map[string]string{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(b), "k: "), "\n")
}

// Every change names its object, from the document it sits in.
func TestSetFileNamesEachChangesObject(t *testing.T) {
	_, changes, _ := setters.SetFile("h.yaml", []byte(propertyInputs["helm-values-across-documents"]), testPolicies)
	var got []string
	for _, c := range changes {
		got = append(got, c.Object.String()+" "+c.Setter+" "+c.NewValue)
	}
	// The HelmRelease's repository is already current: it is no change.
	want := []string{
		"HelmRelease/proxy apps:nginx:tag 1.27.1",
		"CronJob/report apps:numeric registry.local/app:1.10",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// Apply over a tree gives the same bytes as SetFile on each file, and
// leaves files that hold no marker, and files of other extensions, alone.
func TestApplyAgreesWithSetFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"apps/values.yml":      propertyInputs["helm-values-across-documents"],
		"apps/deploy.yaml":     propertyInputs["deployment-containers"],
		"base/kustom.yaml":     propertyInputs["kustomization-split-fields"],
		"base/plain.yaml":      "kind: ConfigMap\ndata:\n  image: docker.io/library/nginx:1.0\n",
		"base/notes.txt":       "image: x # {\"$imagepolicy\": \"apps:nginx\"}\n",
		"base/nested/app.yaml": "image: registry.local/app:1.0 # {\"$imagepolicy\": \"apps:numeric\"}\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := setters.Apply(context.Background(), dir, "", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		want := []byte(c)
		if strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") {
			want, _, _ = setters.SetFile(p, []byte(c), testPolicies)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n%s\nwant\n%s", p, got, want)
		}
	}
	wantFiles := []string{"apps/deploy.yaml", "apps/values.yml", "base/kustom.yaml", "base/nested/app.yaml"}
	if diff := cmp.Diff(wantFiles, rep.Result.Files()); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %v", rep.Warnings)
	}
}

// Apply limited to a path changes nothing outside it.
func TestApplyUnderAPathLeavesTheRestAlone(t *testing.T) {
	dir := t.TempDir()
	in := "image: registry.local/app:1.0 # {\"$imagepolicy\": \"apps:numeric\"}\n"
	for _, p := range []string{"a/x.yaml", "b/x.yaml"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := setters.Apply(context.Background(), dir, "a", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a/x.yaml"}, rep.Result.Files()); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b/x.yaml")); string(b) != in {
		t.Errorf("b/x.yaml changed:\n%s", b)
	}
	if a, _ := os.ReadFile(filepath.Join(dir, "a/x.yaml")); !strings.Contains(string(a), "registry.local/app:1.10 #") {
		t.Errorf("a/x.yaml not set:\n%s", a)
	}
}

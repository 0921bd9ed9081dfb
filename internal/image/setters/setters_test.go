package setters_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testPolicies are the choices the golden files are rewritten with.
var testPolicies = setters.Policies{
	"apps:podinfo": {Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.5.1", Digest: "sha256:" + strings.Repeat("ab", 32)},
	"apps:nginx":   {Name: "docker.io/library/nginx", Tag: "1.27.1"},
	"apps:numeric": {Name: "registry.local/app", Tag: "1.10"},
}

// TestSetFileGolden rewrites testdata/NAME.in.yaml and compares the result
// with NAME.out.yaml, and the changes and warnings with NAME.changes.txt.
func TestSetFileGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			content, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, changes, warnings := setters.SetFile(name+".yaml", content, testPolicies)
			checkGolden(t, "testdata/"+name+".out.yaml", out)
			checkGolden(t, "testdata/"+name+".changes.txt", []byte(describe(changes, warnings)))
			assertOnlyValuesChanged(t, content, out, changes)
			again, more, _ := setters.SetFile(name+".yaml", out, testPolicies)
			if len(more) != 0 || string(again) != string(out) {
				t.Errorf("a second run changed %d more values; want none", len(more))
			}
		})
	}
}

func describe(changes []setters.FileChange, warnings []setters.Warning) string {
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "change line %d %s [%s]: %q -> %q written %s\n", c.Line, c.Object, c.Setter, c.OldValue, c.NewValue, c.NewText)
	}
	for _, w := range warnings {
		fmt.Fprintf(&b, "warning %s\n", w)
	}
	return b.String()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// assertOnlyValuesChanged rebuilds out from in and the reported changes:
// any other difference is a byte changed outside a marked value.
func assertOnlyValuesChanged(t *testing.T, in, out []byte, changes []setters.FileChange) {
	t.Helper()
	var b strings.Builder
	prev := 0
	for _, c := range changes {
		if c.Offset < prev || c.Offset+c.OldLen > len(in) {
			t.Fatalf("change at %d+%d is out of order or out of range", c.Offset, c.OldLen)
		}
		b.WriteString(string(in[prev:c.Offset]))
		b.WriteString(c.NewText)
		prev = c.Offset + c.OldLen
	}
	b.WriteString(string(in[prev:]))
	if b.String() != string(out) {
		t.Fatalf("bytes outside the marked values changed:\n%s", cmp.Diff(b.String(), string(out)))
	}
}

func TestParseMarker(t *testing.T) {
	tests := []struct {
		name    string
		comment string
		want    setters.Marker
		wantErr string
	}{
		{name: "whole image as Flux writes it", comment: ` {"$imagepolicy": "flux-system:podinfo"}`, want: setters.Marker{Namespace: "flux-system", Name: "podinfo"}},
		{name: "tag", comment: `{"$imagepolicy": "apps:podinfo:tag"}`, want: setters.Marker{Namespace: "apps", Name: "podinfo", Field: "tag"}},
		{name: "name", comment: `{"$imagepolicy":"apps:podinfo:name"}  `, want: setters.Marker{Namespace: "apps", Name: "podinfo", Field: "name"}},
		{name: "digest", comment: `  { "$imagepolicy" : "apps:podinfo:digest" }`, want: setters.Marker{Namespace: "apps", Name: "podinfo", Field: "digest"}},
		{name: "other comment", comment: ` just a comment`, wantErr: setters.ErrNotMarker.Error()},
		{name: "missing namespace", comment: `{"$imagepolicy": "podinfo"}`, wantErr: "is not NAMESPACE:NAME"},
		{name: "empty name", comment: `{"$imagepolicy": "apps:"}`, wantErr: "is not NAMESPACE:NAME"},
		{name: "unknown field", comment: `{"$imagepolicy": "apps:podinfo:version"}`, wantErr: `field "version"`},
		{name: "too many parts", comment: `{"$imagepolicy": "a:b:tag:x"}`, wantErr: "is not NAMESPACE:NAME"},
		{name: "not JSON", comment: `$imagepolicy: apps:podinfo`, wantErr: "malformed marker"},
		{name: "Flux's older setter form is not an image policy", comment: `{"$ref": "#/definitions/io.k8s.cli.setters.image"}`, wantErr: setters.ErrNotMarker.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setters.ParseMarker(tt.comment)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("marker (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkerSetterNames(t *testing.T) {
	m, err := setters.ParseMarker(`{"$imagepolicy": "apps:podinfo:tag"}`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Setter() != "apps:podinfo:tag" || m.Policy() != "apps:podinfo" {
		t.Errorf("setter %q policy %q", m.Setter(), m.Policy())
	}
	img := setters.Image{Name: "r/app", Tag: "1", Digest: "sha256:x"}
	if got := (setters.Marker{Namespace: "a", Name: "b"}).Value(img); got != "r/app:1@sha256:x" {
		t.Errorf("whole image value = %q", got)
	}
}

// writeTree writes files (path -> content) under a fresh directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const marked = "image: docker.io/library/nginx:1.25.0 # {\"$imagepolicy\": \"apps:nginx\"}\n"

func TestApplyStaysUnderThePath(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"apps/staging/deploy.yaml":   "kind: Deployment\nmetadata:\n  name: web\n" + marked,
		"apps/staging/notes.txt":     marked,
		"apps/production/deploy.yml": marked,
		"apps/staging/.git/x.yaml":   marked,
	})
	outside := writeTree(t, map[string]string{"secret.yaml": marked})
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "apps/staging/link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "apps/staging/linkdir")); err != nil {
		t.Fatal(err)
	}
	rep, err := setters.Apply(context.Background(), dir, "./apps/staging/", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	want := setters.Result{FileChanges: map[string]setters.ObjectChanges{
		"apps/staging/deploy.yaml": {{Kind: "Deployment", Name: "web"}: {{OldValue: "docker.io/library/nginx:1.25.0", NewValue: "docker.io/library/nginx:1.27.1", Setter: "apps:nginx"}}},
	}}
	if diff := cmp.Diff(want, rep.Result); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].String(), "apps/staging/link.yaml:0: symlink not followed") {
		t.Errorf("warnings = %v, want the symlinked file named", rep.Warnings)
	}
	for _, p := range []string{"apps/staging/notes.txt", "apps/production/deploy.yml", "apps/staging/.git/x.yaml"} {
		if b, _ := os.ReadFile(filepath.Join(dir, p)); string(b) != marked {
			t.Errorf("%s outside the update path or not YAML was changed: %q", p, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret.yaml")); string(b) != marked {
		t.Errorf("a file outside the repository was changed through a symlink: %q", b)
	}
}

func TestApplyRefusesPathsLeavingTheRepository(t *testing.T) {
	dir := writeTree(t, map[string]string{"apps/a.yaml": marked})
	outside := writeTree(t, map[string]string{"b.yaml": marked})
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("apps", filepath.Join(dir, "inner")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../", "apps/../../x", "/etc", "escape", "inner", "escape/sub"} {
		_, err := setters.Apply(context.Background(), dir, p, testPolicies)
		if !errors.Is(err, setters.ErrOutsideRepository) && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("path %q: error = %v, want ErrOutsideRepository", p, err)
		}
		if err == nil {
			t.Errorf("path %q was accepted", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "b.yaml")); string(b) != marked {
		t.Errorf("a file outside the repository was changed: %q", b)
	}
}

func TestResultOrdersChangesByFile(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"b.yaml": "kind: B\nmetadata:\n  name: b\n" + marked,
		"a.yaml": "kind: A\nmetadata:\n  name: a\n" + strings.Replace(marked, "nginx:1.25.0", "nginx:1.0.0", 1),
	})
	rep, err := setters.Apply(context.Background(), dir, "", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	var olds []string
	for _, c := range rep.Result.Changes() {
		olds = append(olds, c.OldValue)
	}
	if diff := cmp.Diff([]string{"docker.io/library/nginx:1.0.0", "docker.io/library/nginx:1.25.0"}, olds); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := len(rep.Result.Objects()); got != 2 {
		t.Errorf("objects = %d, want 2", got)
	}
}

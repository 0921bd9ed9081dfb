package setters_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/setters"
)

func TestMarkerValueOfEachField(t *testing.T) {
	img := setters.Image{Name: "ghcr.io/org/app", Tag: "1.2.3", Digest: "sha256:abc"}
	tests := []struct {
		field, want string
	}{
		{setters.FieldImage, "ghcr.io/org/app:1.2.3@sha256:abc"},
		{setters.FieldTag, "1.2.3"},
		{setters.FieldName, "ghcr.io/org/app"},
		{setters.FieldDigest, "sha256:abc"},
	}
	for _, tt := range tests {
		m := setters.Marker{Namespace: "apps", Name: "app", Field: tt.field}
		if got := m.Value(img); got != tt.want {
			t.Errorf("field %q: value = %q, want %q", tt.field, got, tt.want)
		}
	}
	if got := (setters.Image{Name: "r/app", Tag: "1"}).Ref(); got != "r/app:1" {
		t.Errorf("ref without a digest = %q", got)
	}
	if got := (setters.Marker{Namespace: "a", Name: "b"}).Setter(); got != "a:b" {
		t.Errorf("whole-image setter = %q, want a:b with no field", got)
	}
}

func TestObjectIdentifierAndWarningStrings(t *testing.T) {
	tests := []struct {
		obj  setters.ObjectIdentifier
		want string
	}{
		{setters.ObjectIdentifier{Kind: "Deployment", Namespace: "apps", Name: "web"}, "Deployment/apps/web"},
		{setters.ObjectIdentifier{Kind: "Kustomization", Name: "k"}, "Kustomization/k"},
		{setters.ObjectIdentifier{}, "/"},
	}
	for _, tt := range tests {
		if got := tt.obj.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.obj, got, tt.want)
		}
	}
	w := setters.Warning{File: "apps/a.yaml", Line: 7, Setter: "apps:web", Reason: "why"}
	if got := w.String(); got != "apps/a.yaml:7: why" {
		t.Errorf("warning = %q", got)
	}
}

func TestResultAcrossFilesAndObjects(t *testing.T) {
	web := setters.ObjectIdentifier{Kind: "Deployment", Namespace: "apps", Name: "web"}
	api := setters.ObjectIdentifier{Kind: "Deployment", Namespace: "apps", Name: "api"}
	c := func(v string) setters.Change {
		return setters.Change{OldValue: v, NewValue: v + "'", Setter: "apps:" + v}
	}
	r := setters.Result{FileChanges: map[string]setters.ObjectChanges{
		"z.yaml": {web: {c("z-web")}},
		"a.yaml": {web: {c("a-web-1"), c("a-web-2")}, api: {c("a-api")}},
	}}
	if r.Empty() {
		t.Fatal("a result with changes is empty")
	}
	if diff := cmp.Diff([]string{"a.yaml", "z.yaml"}, r.Files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var olds []string
	for _, ch := range r.Changes() {
		olds = append(olds, ch.OldValue)
	}
	if diff := cmp.Diff([]string{"a-api", "a-web-1", "a-web-2", "z-web"}, olds); diff != "" {
		t.Errorf("changes by file then object (-want +got):\n%s", diff)
	}
	want := setters.ObjectChanges{
		web: {c("a-web-1"), c("a-web-2"), c("z-web")},
		api: {c("a-api")},
	}
	if diff := cmp.Diff(want, r.Objects()); diff != "" {
		t.Errorf("objects merge the files in file order (-want +got):\n%s", diff)
	}
	var none setters.Result
	if !none.Empty() || len(none.Files()) != 0 || none.Changes() != nil || len(none.Objects()) != 0 {
		t.Errorf("the zero result is not empty: %+v", none)
	}
}

func TestSetFileWarnsAboutMarkersItCannotSet(t *testing.T) {
	in := strings.Join([]string{
		`kind: Deployment`,
		`metadata:`,
		`  name: web`,
		`image: r/other:1 # {"$imagepolicy": "apps:unknown"}`,
		`digest: sha256:old # {"$imagepolicy": "apps:nginx:digest"}`,
		`tag: 1.27.1 # {"$imagepolicy": "apps:nginx:tag"}`,
		`name: r/old # {"$imagepolicy": "apps:nginx:name"}`,
		``,
	}, "\n")
	out, changes, warnings := setters.SetFile("deploy.yaml", []byte(in), testPolicies)
	wantWarnings := []setters.Warning{
		{File: "deploy.yaml", Line: 4, Setter: "apps:unknown", Reason: "marker names ImagePolicy apps:unknown, which this update does not select (or which has no latest image yet)"},
		{File: "deploy.yaml", Line: 5, Setter: "apps:nginx:digest", Reason: "ImagePolicy apps:nginx has no digest to set (digest reflection is off?)"},
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(changes) != 1 || changes[0].Line != 7 || changes[0].NewValue != "docker.io/library/nginx" {
		t.Fatalf("changes = %+v; want only the name on line 7 (the tag is already current)", changes)
	}
	if want := strings.Replace(in, "name: r/old #", "name: docker.io/library/nginx #", 1); string(out) != want {
		t.Errorf("output:\n%s", out)
	}
	if changes[0].Object != (setters.ObjectIdentifier{Kind: "Deployment", Name: "web"}) {
		t.Errorf("object = %+v", changes[0].Object)
	}
}

func TestSetFileReportsByteOffsetsAcrossDocuments(t *testing.T) {
	in := "kind: A\r\n---\r\nkind: B\r\nx: 'old' # {\"$imagepolicy\": \"apps:nginx:tag\"}\r\n"
	out, changes, _ := setters.SetFile("f.yaml", []byte(in), testPolicies)
	if len(changes) != 1 {
		t.Fatalf("changes = %+v", changes)
	}
	c := changes[0]
	if c.Line != 4 || c.Offset != strings.Index(in, "'old'") || c.OldLen != 5 || c.NewText != "'1.27.1'" || c.Object.Kind != "B" {
		t.Errorf("change = %+v", c)
	}
	if want := strings.Replace(in, "'old'", "'1.27.1'", 1); string(out) != want {
		t.Errorf("output = %q, want %q", out, want)
	}
}

func TestApplyKeepsTheFileMode(t *testing.T) {
	dir := writeTree(t, map[string]string{"deploy.yaml": marked})
	if err := os.Chmod(filepath.Join(dir, "deploy.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := setters.Apply(context.Background(), dir, "", testPolicies); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 kept", fi.Mode().Perm())
	}
}

func TestApplySkipsFilesOverTheSizeBound(t *testing.T) {
	big := marked + strings.Repeat("# padding\n", setters.MaxFileSize/10+1)
	dir := writeTree(t, map[string]string{"big.yaml": big, "small.yml": marked})
	rep, err := setters.Apply(context.Background(), dir, "", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	want := []setters.Warning{{File: "big.yaml", Reason: "file larger than 4194304 bytes not rewritten"}}
	if diff := cmp.Diff(want, rep.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"small.yml"}, rep.Result.Files()); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "big.yaml")); string(b) != big {
		t.Error("the file over the bound was changed")
	}
}

func TestApplyStopsWhenTheContextIsCancelled(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.yaml": marked})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := setters.Apply(ctx, dir, "", testPolicies)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.yaml")); string(b) != marked {
		t.Error("a file was rewritten after cancellation")
	}
}

func TestApplyErrorsNameThePath(t *testing.T) {
	dir := writeTree(t, map[string]string{"apps/a.yaml": marked})
	_, err := setters.Apply(context.Background(), dir, "apps/missing", testPolicies)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `update path "apps/missing"`) {
		t.Errorf("missing path: error = %v", err)
	}
	if _, err := setters.Apply(context.Background(), filepath.Join(dir, "nope"), "", testPolicies); err == nil {
		t.Error("a missing repository directory was accepted")
	}
	rep, err := setters.Apply(context.Background(), dir, "apps/a.yaml", testPolicies)
	if err != nil {
		t.Fatalf("a single file as the update path: %v", err)
	}
	if diff := cmp.Diff([]string{"apps/a.yaml"}, rep.Result.Files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestApplyWithNothingToChange(t *testing.T) {
	current := strings.Replace(marked, "1.25.0", "1.27.1", 1)
	dir := writeTree(t, map[string]string{"a.yaml": current, "b.yaml": "kind: ConfigMap\n"})
	rep, err := setters.Apply(context.Background(), dir, ".", testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Result.Empty() || len(rep.Warnings) != 0 {
		t.Errorf("report = %+v, want nothing changed and no warnings", rep)
	}
}

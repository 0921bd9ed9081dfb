package fleet

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading %s (run with -update to write it): %v", p, err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", p, diff)
	}
}

// exampleFleet returns the files of examples/fleet.
func exampleFleet(t *testing.T) map[string]string {
	t.Helper()
	files, err := fleettest.CopyDir(filepath.Join("..", "..", "examples", "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// repoWith commits base in a new repository, then commits head on top
// (when not nil); it returns the repository's directory.
func repoWith(t *testing.T, base, head map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := fleettest.InitRepo(dir, base); err != nil {
		t.Fatal(err)
	}
	if head != nil {
		if err := fleettest.Commit(dir, head, "the change"); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// planRepo plans base against head of the repository at dir; each of
// with changes the Options first.
func planRepo(t *testing.T, dir, base, head string, with ...func(*Options)) *Result {
	t.Helper()
	r, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, h, br, hr, err := Snapshots(r, base, head)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions(b, h)
	o.BaseRevision, o.HeadRevision = br, hr
	o.TempDir = t.TempDir()
	for _, w := range with {
		w(&o)
	}
	res, err := Plan(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// outputs renders res in every format.
func outputs(t *testing.T, res *Result) map[string]string {
	t.Helper()
	var text, md, js bytes.Buffer
	if err := WriteText(&text, res, Style{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"text": text.String(), "markdown": md.String(), "json": js.String()}
}

// assertNoSecret fails if any output holds a secret, in clear or base64.
func assertNoSecret(t *testing.T, outs map[string]string, secrets ...string) {
	t.Helper()
	for format, out := range outs {
		for _, s := range secrets {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s))} {
				if strings.Contains(out, form) {
					t.Errorf("%s output holds the secret %q (as %q)", format, s, form)
				}
			}
		}
	}
}

// with returns a copy of files with changes applied ("" deletes).
func with(files map[string]string, changes map[string]string) map[string]string {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// edit returns files[path] with old replaced by new, failing if old is absent.
func edit(t *testing.T, files map[string]string, path, old, new string) string {
	t.Helper()
	s, ok := files[path]
	if !ok || !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	return strings.Replace(s, old, new, 1)
}

func gitRun(dir string, args ...string) error { return fleettest.Git(dir, args...) }

func commitFiles(dir string, files map[string]string) error {
	return fleettest.Commit(dir, files, "a commit")
}

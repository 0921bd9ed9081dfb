package render

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCleanPathStaysInsideRoot checks that the path to render is either
// refused as outside the root or comes back clean and local.
func FuzzCleanPathStaysInsideRoot(f *testing.F) {
	for _, s := range []string{"", ".", "apps", "./a/b/", "a/../b", "..", "../x", "a/../../x", "/etc", `\x`, "a//b", "a/./../..", "....", ".../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := cleanPath(p)
		if err != nil {
			if !errors.Is(err, ErrOutsideRoot) {
				t.Fatalf("cleanPath(%q) failed with %v, want ErrOutsideRoot", p, err)
			}
			return
		}
		if got != "." && (!filepath.IsLocal(got) || filepath.Clean(got) != got) {
			t.Fatalf("cleanPath(%q) = %q, which is not a clean path inside the root", p, got)
		}
	})
}

// FuzzResolveStaysInsideRoot checks that an entry of a kustomization in
// apps/prod resolves to a path inside the artifact root, or is refused as
// remote or outside.
func FuzzResolveStaysInsideRoot(f *testing.F) {
	for _, s := range []string{"cm.yaml", "../base", "../../x", "../../../x", "/abs", `\win`, "https://h/x", "a/../../../b", "./././..", "..//..", "~/x"} {
		f.Add(s)
	}
	c := &check{g: &guard{t: &tree{refused: map[string]refusal{}}}, dir: "apps/prod", file: "apps/prod/kustomization.yaml"}
	f.Fuzz(func(t *testing.T, e string) {
		p, err := c.entry("resources", e)
		if err != nil {
			if !errors.Is(err, ErrOutsideRoot) && !errors.Is(err, ErrRemote) {
				t.Fatalf("entry(%q) failed with %v, want ErrOutsideRoot or ErrRemote", e, err)
			}
			return
		}
		if p != "." && !filepath.IsLocal(p) {
			t.Fatalf("entry(%q) = %q, which is outside the root", e, p)
		}
		if strings.Contains(e, "://") {
			t.Fatalf("entry(%q) with a URL was accepted as %q", e, p)
		}
	})
}

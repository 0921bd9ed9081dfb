package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// unlimited are limits no test tree reaches.
var unlimited = limits{file: DefaultMaxFileSize, total: DefaultMaxTotalSize}

// mustLoad loads root with lim and fails the test on an error.
func mustLoad(t *testing.T, root string, lim limits) *tree {
	t.Helper()
	tr, err := loadTree(context.Background(), root, lim)
	if err != nil {
		t.Fatalf("loadTree: %v", err)
	}
	return tr
}

// refusedCauses maps each refused path of tr to its cause, for cmp.
func refusedCauses(tr *tree) map[string]error {
	out := map[string]error{}
	for p, r := range tr.refused {
		out[p] = r.cause
	}
	return out
}

func TestLoadTreeFileSizeBoundary(t *testing.T) {
	root := writeTree(t, map[string]string{
		"at-limit.yaml":   strings.Repeat("a", 16),
		"over-limit.yaml": strings.Repeat("b", 17),
		"empty.yaml":      "",
	})
	tr := mustLoad(t, root, limits{file: 16, total: DefaultMaxTotalSize})
	if !tr.isFile("at-limit.yaml") {
		t.Error("a file exactly at the limit was not loaded")
	}
	if !tr.isFile("empty.yaml") {
		t.Error("an empty file was not loaded")
	}
	if tr.isFile("over-limit.yaml") {
		t.Error("a file one byte over the limit was loaded")
	}
	want := map[string]error{"over-limit.yaml": ErrTooLarge}
	if diff := cmp.Diff(want, refusedCauses(tr), cmpErrors); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	err := tr.refusedError("over-limit.yaml")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "larger than the limit of 16 bytes") {
		t.Errorf("refusedError = %v", err)
	}
}

// cmpErrors compares sentinel errors by identity.
var cmpErrors = cmp.Comparer(func(a, b error) bool { return a == b })

func TestLoadTreeTotalLimitCountsEntries(t *testing.T) {
	// Three empty files cost three entries and no bytes.
	tree3 := map[string]string{"a.yaml": "", "b.yaml": "", "c.yaml": ""}
	tests := []struct {
		name  string
		files map[string]string
		total int64
		err   string // the path the error names, "" for no error
	}{
		{name: "entries-exactly-at-the-limit", files: tree3, total: 3 * entryCost},
		{name: "one-byte-short-fails-on-the-last-entry", files: tree3, total: 3*entryCost - 1, err: "c.yaml"},
		{name: "directories-count-too", files: map[string]string{"dir/a.yaml": ""}, total: entryCost, err: "dir/a.yaml"},
		{name: "bytes-and-entries-add-up", files: map[string]string{"a.yaml": "12345"}, total: entryCost + 5},
		{name: "bytes-over-by-one", files: map[string]string{"a.yaml": "123456"}, total: entryCost + 5, err: "a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTree(context.Background(), writeTree(t, tt.files), limits{file: 1 << 20, total: tt.total})
			if tt.err == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var re *Error
			if !errors.As(err, &re) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %v, want an *Error wrapping ErrTooLarge", err)
			}
			if re.Path != tt.err {
				t.Errorf("error names %q, want %q", re.Path, tt.err)
			}
		})
	}
}

func TestLoadTreeSkipsGitDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{
		"cm.yaml":                 configMap,
		".git/objects/pack/big":   strings.Repeat("x", 4096),
		".git/config":             "[core]\n",
		"sub/.git/HEAD":           "ref: refs/heads/main\n",
		".github/workflows/a.yml": "on: push\n",
	})
	// The limit leaves no room for .git: it would fail if .git were counted.
	tr := mustLoad(t, root, limits{file: 1 << 20, total: 8 * entryCost})
	for _, p := range []string{".git", ".git/config", "sub/.git", "sub/.git/HEAD"} {
		if tr.fs.Exists(tr.abs(p)) {
			t.Errorf("%s was loaded", p)
		}
	}
	for _, p := range []string{"cm.yaml", ".github/workflows/a.yml"} {
		if !tr.isFile(p) {
			t.Errorf("%s was not loaded", p)
		}
	}
}

func TestLoadTreeRootErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, root := range map[string]string{
		"missing": filepath.Join(dir, "does-not-exist"),
		"a-file":  file,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadTree(context.Background(), root, unlimited)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "artifact root") {
				t.Errorf("got %v, want ErrNotFound naming the artifact root", err)
			}
		})
	}
}

func TestLoadTreeHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := loadTree(ctx, writeTree(t, map[string]string{"cm.yaml": configMap}), unlimited)
	var re *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Path != "." {
		t.Errorf("got %v, want an *Error at . wrapping context.Canceled", err)
	}
}

func TestLoadTreeSymlinks(t *testing.T) {
	tmp, root := outsideTree(t, map[string]string{
		"real/cm.yaml":   configMap,
		"real/notes.txt": "n",
		"loops/a/x.yaml": configMap,
		"loops/b/y.yaml": configMap,
	})
	symlink(t, root, "chain/first.yaml", "second.yaml")
	symlink(t, root, "chain/second.yaml", "../real/cm.yaml")
	symlink(t, root, "linked-dir", "real")
	symlink(t, root, "loops/a/to-b", "../b")
	symlink(t, root, "loops/b/to-a", "../a")
	symlink(t, root, "loops/self", ".")
	symlink(t, root, "absolute-inside.yaml", filepath.Join(root, "real", "cm.yaml"))
	symlink(t, root, "dangling.yaml", "nowhere.yaml")
	symlink(t, root, "escape.yaml", filepath.Join(tmp, "outside.yaml"))
	tr := mustLoad(t, root, unlimited)

	for _, p := range []string{"chain/first.yaml", "chain/second.yaml", "linked-dir/cm.yaml", "linked-dir/notes.txt",
		"loops/a/to-b/y.yaml", "loops/b/to-a/x.yaml"} {
		if !tr.isFile(p) {
			t.Errorf("%s was not loaded", p)
		}
	}
	want := map[string]error{
		// Through a/to-b, b/to-a leads back to a, which holds it.
		"loops/a/to-b/to-a":    ErrNotFound,
		"loops/b/to-a/to-b":    ErrNotFound,
		"loops/self":           ErrNotFound,
		"absolute-inside.yaml": ErrOutsideRoot,
		"dangling.yaml":        ErrNotFound,
		"escape.yaml":          ErrOutsideRoot,
	}
	if diff := cmp.Diff(want, refusedCauses(tr), cmpErrors); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	reasons := map[string]string{
		"loops/self":           "symlink loop",
		"absolute-inside.yaml": "absolute links are not followed",
		"dangling.yaml":        "broken symlink",
		"escape.yaml":          "points outside the artifact root",
	}
	for p, reason := range reasons {
		if r := tr.refused[p]; !r.link || !strings.Contains(r.reason, reason) {
			t.Errorf("%s: refusal %+v, want a link refused with %q", p, r, reason)
		}
	}
}

func TestRefusedAtFindsNearestRefusedDirectory(t *testing.T) {
	tr := &tree{refused: map[string]refusal{
		"vendor":         {cause: ErrOutsideRoot, reason: "outside"},
		"apps/big.yaml":  {cause: ErrTooLarge, reason: "large"},
		"apps/deep/link": {cause: ErrNotFound, reason: "loop"},
	}}
	tests := []struct {
		rel, want string
		found     bool
	}{
		{rel: "vendor", want: "vendor", found: true},
		{rel: "vendor/a/b.yaml", want: "vendor", found: true},
		{rel: "./vendor/x", want: "vendor", found: true},
		{rel: "apps/big.yaml", want: "apps/big.yaml", found: true},
		{rel: "apps/deep/link/x/y", want: "apps/deep/link", found: true},
		{rel: "apps/small.yaml"},
		{rel: "vendored/x"},
		{rel: "."},
		{rel: ".."},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			got, _, found := tr.refusedAt(tt.rel)
			if got != tt.want || found != tt.found {
				t.Errorf("refusedAt(%q) = %q, %t; want %q, %t", tt.rel, got, found, tt.want, tt.found)
			}
		})
	}
	if err := tr.refusedError("apps/ok.yaml"); err != nil {
		t.Errorf("refusedError of a loaded path = %v, want nil", err)
	}
	err := tr.refusedError("vendor/x.yaml")
	var re *Error
	if !errors.As(err, &re) || re.Path != "vendor" || !errors.Is(err, ErrOutsideRoot) {
		t.Fatalf("refusedError = %v, want an *Error at vendor wrapping ErrOutsideRoot", err)
	}
	if want := "render vendor: path leads outside the artifact root: vendor is not loaded: outside"; err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		dir, p string
		want   bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/b/c", true},
		{"/a/b", "/a/b/../b/c", true},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/b", "/a/b/../c", false},
		{"/a/b", "relative", false},
	}
	for _, tt := range tests {
		if got := within(tt.dir, tt.p); got != tt.want {
			t.Errorf("within(%q, %q) = %t, want %t", tt.dir, tt.p, got, tt.want)
		}
	}
}

// A refused path matters only when the generated listing would include it.
func TestListingReportsOnlyRefusedPathsItWouldInclude(t *testing.T) {
	big := strings.Repeat("#", 2048)
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string
		err   string // the path the error names, "" for a successful render
	}{
		{name: "oversized-yaml-is-reported", files: map[string]string{"big.yaml": big}, err: "big.yaml"},
		{name: "oversized-yml-in-subdirectory-is-reported", files: map[string]string{"sub/big.yml": big}, err: "sub/big.yml"},
		{name: "oversized-text-file-is-not-listed", files: map[string]string{"big.txt": big}},
		{name: "oversized-yaml-in-hidden-directory", files: map[string]string{".cache/big.yaml": big}},
		{name: "oversized-yaml-beside-a-kustomization-below", files: map[string]string{
			"sub/kustomization.yaml": "resources: [cm.yaml]\n", "sub/cm.yaml": strings.Replace(configMap, "cm", "sub", 1), "sub/big.yaml": big,
		}},
		{name: "escaping-link-with-any-name-is-reported", links: map[string]string{"notes": "../outside.txt"}, err: "notes"},
		{name: "escaping-link-in-hidden-directory", links: map[string]string{".hidden/notes": "../../outside.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, root := outsideTree(t, map[string]string{"cm.yaml": configMap})
			for name, content := range tt.files {
				writeFile(t, root, name, content)
			}
			for link, target := range tt.links {
				symlink(t, root, link, target)
			}
			objs, err := buildBoth(t, Options{Root: root, MaxFileSize: 1024})
			if tt.err == "" {
				if err != nil {
					t.Fatalf("got %v, want a render", err)
				}
				if len(objs) == 0 || objs[0].GetName() != "cm" {
					t.Errorf("got %s, want the ConfigMap cm first", toYAML(t, objs))
				}
				return
			}
			var re *Error
			if !errors.As(err, &re) || re.Path != tt.err {
				t.Errorf("got %v, want an *Error naming %s", err, tt.err)
			}
		})
	}
}

func TestListedPaths(t *testing.T) {
	root := writeTree(t, map[string]string{
		"stack/a.yaml":                  configMap,
		"stack/kust/kustomization.yaml": "resources: []\n",
	})
	tr := mustLoad(t, root, unlimited)
	tests := []struct {
		p    string
		want bool
	}{
		{"stack/a.yaml", true},
		{"stack/deep/er/b.yaml", true},
		{"stack/kust/b.yaml", false},
		{"stack/kust/deeper/b.yaml", false},
		{"stack/.hidden/b.yaml", false},
		{"other/b.yaml", false},
		{"../b.yaml", false},
	}
	for _, tt := range tests {
		if got := tr.listed("stack", tt.p); got != tt.want {
			t.Errorf("listed(stack, %q) = %t, want %t", tt.p, got, tt.want)
		}
	}
}

func TestIsYAMLName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.yaml": true, "a.yml": true, ".hidden.yaml": true, "a.YAML": false, "a.json": false,
		"yaml": false, "a.yaml.bak": false, "a.tpl.yaml": true,
	} {
		if got := isYAMLName(name); got != want {
			t.Errorf("isYAMLName(%q) = %t, want %t", name, got, want)
		}
	}
}

package artifact

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ignoreFile is a .flotillaignore found in dir ("" for the root).
type ignoreFile struct {
	dir, content string
}

func TestIgnoreMatch(t *testing.T) {
	type probe struct {
		path  string
		isDir bool
	}
	cases := []struct {
		name  string
		spec  string
		files []ignoreFile
		// want maps each probed path to whether it must be ignored.
		want map[probe]bool
	}{
		{
			name: "defaults leave out version control and CI metadata",
			want: map[probe]bool{
				{".git", true}:                      true,
				{".git/config", false}:              true,
				{".git/objects/ab/cdef", false}:     true,
				{".github/workflows/ci.yml", false}: true,
				{".gitlab-ci.yml", false}:           true,
				{".circleci/config.yml", false}:     true,
				{"deploy.yaml", false}:              false,
				{".gitignore", false}:               false,
				{"apps/.gitkeep", false}:            false,
			},
		},
		{
			name: "default metadata patterns are anchored at the root",
			want: map[probe]bool{
				{"apps/.github/workflows/ci.yml", false}: false,
				{"apps/.gitlab-ci.yml", false}:           false,
				{"apps/.circleci/config.yml", false}:     false,
			},
		},
		{
			name: "defaults leave out images and archives at any depth",
			want: map[probe]bool{
				{"logo.png", false}:               true,
				{"docs/img/diagram.png", false}:   true,
				{"photo.jpg", false}:              true,
				{"photo.jpeg", false}:             true,
				{"anim.gif", false}:               true,
				{"bundle.zip", false}:             true,
				{"release.tar.gz", false}:         true,
				{"release.tgz", false}:            true,
				{"png.yaml", false}:               false,
				{"charts/app/values.yaml", false}: false,
			},
		},
		{
			name: "spec patterns add to the defaults",
			spec: "*.md\n/secrets/\ntmp",
			want: map[probe]bool{
				{"README.md", false}:            true,
				{"docs/guide.md", false}:        true,
				{"secrets/db.yaml", false}:      true,
				{"apps/secrets/db.yaml", false}: false,
				{"tmp", false}:                  true,
				{"apps/tmp/x.yaml", false}:      true,
				{"logo.png", false}:             true,
				{"deploy.yaml", false}:          false,
			},
		},
		{
			name: "negation in spec brings back a default-ignored file",
			spec: "!keep.png",
			want: map[probe]bool{
				{"keep.png", false}:        false,
				{"assets/keep.png", false}: false,
				{"other.png", false}:       true,
			},
		},
		{
			name: "later rules win over earlier ones within the spec",
			spec: "*.yaml\n!keep.yaml\nkeep.yaml",
			want: map[probe]bool{
				{"keep.yaml", false}: true,
				{"app.yaml", false}:  true,
			},
		},
		{
			name: "negation after an exclusion re-includes",
			spec: "*.yaml\n!keep.yaml",
			want: map[probe]bool{
				{"keep.yaml", false}: false,
				{"app.yaml", false}:  true,
			},
		},
		{
			name:  "spec negation wins over a .flotillaignore",
			spec:  "!important.txt",
			files: []ignoreFile{{"", "*.txt"}},
			want: map[probe]bool{
				{"important.txt", false}: false,
				{"notes.txt", false}:     true,
			},
		},
		{
			name:  ".flotillaignore negation brings back a default-ignored file",
			files: []ignoreFile{{"", "!icon.png"}},
			want: map[probe]bool{
				{"icon.png", false}:  false,
				{"other.png", false}: true,
			},
		},
		{
			name:  "spec exclusion wins over a .flotillaignore negation",
			spec:  "icon.png",
			files: []ignoreFile{{"", "!icon.png"}},
			want: map[probe]bool{
				{"icon.png", false}: true,
			},
		},
		{
			name: "negation cannot bring back a file below an ignored directory",
			spec: "!.git/keep.txt\n!keep.png",
			want: map[probe]bool{
				{".git/keep.txt", false}: true,
			},
		},
		{
			name: "directory pattern ignores every file below it",
			spec: "docs/",
			want: map[probe]bool{
				{"docs", true}:                true,
				{"docs/readme.txt", false}:    true,
				{"docs/a/b/c.yaml", false}:    true,
				{"apps/docs/x.yaml", false}:   true,
				{"docs", false}:               false, // a file named docs is not a directory
				{"docsite/index.html", false}: false,
				{"apps/mydocs/x.yaml", false}: false,
			},
		},
		{
			name: "anchored directory pattern ignores only at the root",
			spec: "/docs/",
			want: map[probe]bool{
				{"docs/readme.txt", false}:  true,
				{"apps/docs/x.yaml", false}: false,
			},
		},
		{
			name: "comments and blank lines are skipped",
			spec: "# a comment\n\n   \n\t\n*.tmp\r\n#*.yaml\n",
			want: map[probe]bool{
				{"a.tmp", false}:       true,
				{"# a comment", false}: false,
				{"a.yaml", false}:      false,
				{"#x.yaml", false}:     false,
			},
		},
		{
			name: "trailing spaces and CRLF line ends are trimmed",
			spec: "build/  \r\nout.txt \r\n",
			want: map[probe]bool{
				{"build/x", false}: true,
				{"out.txt", false}: true,
			},
		},
		{
			name:  "root .flotillaignore applies everywhere",
			files: []ignoreFile{{"", "*.bak\n/only-root.yaml"}},
			want: map[probe]bool{
				{"a.bak", false}:              true,
				{"sub/dir/b.bak", false}:      true,
				{"only-root.yaml", false}:     true,
				{"sub/only-root.yaml", false}: false,
			},
		},
		{
			name:  "subdirectory .flotillaignore applies only below it",
			files: []ignoreFile{{"apps", "*.bak\n/local.yaml\ngen/"}},
			want: map[probe]bool{
				{"apps/a.bak", false}:           true,
				{"apps/deep/er/b.bak", false}:   true,
				{"a.bak", false}:                false,
				{"other/a.bak", false}:          false,
				{"apps/local.yaml", false}:      true,
				{"apps/deep/local.yaml", false}: false,
				{"local.yaml", false}:           false,
				{"apps/gen/x.yaml", false}:      true,
				{"apps/x/gen/y.yaml", false}:    true,
				{"gen/x.yaml", false}:           false,
				{"appsx/a.bak", false}:          false,
				{"apps", true}:                  false,
			},
		},
		{
			name:  "nested .flotillaignore in a deeper directory",
			files: []ignoreFile{{"apps/web", "*.yaml"}},
			want: map[probe]bool{
				{"apps/web/deploy.yaml", false}:   true,
				{"apps/web/x/deploy.yaml", false}: true,
				{"apps/deploy.yaml", false}:       false,
				{"apps/api/deploy.yaml", false}:   false,
			},
		},
		{
			name: "double star patterns",
			spec: "**/generated/**\nconfig/**/*.local",
			want: map[probe]bool{
				{"generated/a.yaml", false}:       true,
				{"x/y/generated/a.yaml", false}:   true,
				{"config/a/b/dev.local", false}:   true,
				{"config/dev.local", false}:       true,
				{"other/config/dev.local", false}: false,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ig := NewIgnore(tc.spec)
			for _, f := range tc.files {
				ig.AddFile(f.dir, f.content)
			}
			got := make(map[probe]bool, len(tc.want))
			for p := range tc.want {
				got[p] = ig.Match(p.path, p.isDir)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Match results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIgnoreAddFileOrderAcrossFiles(t *testing.T) {
	// A later .flotillaignore (as found by the walk) wins over an earlier one
	// for paths both apply to.
	ig := NewIgnore("")
	ig.AddFile("", "*.yaml")
	ig.AddFile("apps", "!keep.yaml")
	cases := []struct {
		path string
		want bool
	}{
		{"apps/keep.yaml", false},
		{"keep.yaml", true},
		{"apps/other.yaml", true},
	}
	for _, tc := range cases {
		if got := ig.Match(tc.path, false); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestNewIgnoreDoesNotAliasDefaults(t *testing.T) {
	before := append([]string(nil), DefaultIgnore...)
	a := NewIgnore("!*.png")
	a.AddFile("", "*.yaml")
	b := NewIgnore("")
	if a.Match("x.png", false) {
		t.Error("first Ignore: x.png should be brought back by its spec")
	}
	if !b.Match("x.png", false) {
		t.Error("second Ignore: x.png should stay ignored; rules leaked between instances")
	}
	if b.Match("x.yaml", false) {
		t.Error("second Ignore: x.yaml ignored; AddFile on another instance leaked")
	}
	if diff := cmp.Diff(before, DefaultIgnore); diff != "" {
		t.Errorf("DefaultIgnore changed (-before +after):\n%s", diff)
	}
}

func FuzzIgnoreMatch(f *testing.F) {
	seeds := []struct{ patterns, path string }{
		{"", ""},
		{"*.png", "a/b.png"},
		{"!keep.png\ndocs/", "docs/keep.png"},
		{"[", "["},
		{"**", "a/**/b"},
		{"/**/", "/"},
		{"a/**/b/**", "a//b"},
		{"\\!x\n#c\n\r\n", "!x"},
		{"!", "!"},
		{"/", "//"},
		{"a\\ ", "a "},
	}
	for _, s := range seeds {
		f.Add(s.patterns, s.path)
	}
	f.Fuzz(func(t *testing.T, patterns, path string) {
		ig := NewIgnore(patterns)
		// The same patterns as a .flotillaignore in the root and below a
		// directory derived from the path.
		ig.AddFile("", patterns)
		if i := strings.LastIndex(path, "/"); i > 0 {
			ig.AddFile(path[:i], patterns)
		}
		file := ig.Match(path, false)
		dir := ig.Match(path, true)
		// Matching is a pure function of its input.
		if ig.Match(path, false) != file || ig.Match(path, true) != dir {
			t.Fatalf("Match(%q) is not deterministic for patterns %q", path, patterns)
		}
	})
}

package gitserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		name, command         string
		wantService, wantPath string
		wantErr               string
	}{
		{name: "upload-pack as OpenSSH clients send it", command: "git-upload-pack '/fleet.git'", wantService: "upload-pack", wantPath: "/fleet.git"},
		{name: "receive-pack", command: "git-receive-pack 'apps/fleet.git'", wantService: "receive-pack", wantPath: "apps/fleet.git"},
		{name: "the two-word form", command: "git upload-pack 'fleet.git'", wantService: "upload-pack", wantPath: "fleet.git"},
		{name: "surrounding blanks", command: "  git-upload-pack   'fleet.git'  ", wantService: "upload-pack", wantPath: "fleet.git"},
		{name: "an unquoted path", command: "git-receive-pack fleet.git", wantService: "receive-pack", wantPath: "fleet.git"},
		{name: "a quote inside the path", command: `git-upload-pack 'it'\''s.git'`, wantService: "upload-pack", wantPath: "it's.git"},
		{name: "an empty quoted path", command: "git-upload-pack ''", wantService: "upload-pack", wantPath: ""},
		{name: "another program", command: "sh -c id", wantErr: `unsupported command "sh -c id"`},
		{name: "git's archive service", command: "git-upload-archive 'fleet.git'", wantErr: "unsupported command"},
		{name: "git alone", command: "git", wantErr: "unsupported command"},
		{name: "an empty command", command: "", wantErr: "unsupported command"},
		{name: "no repository", command: "git-upload-pack", wantErr: `missing repository in "git-upload-pack"`},
		{name: "no repository in the two-word form", command: "git receive-pack", wantErr: "missing repository"},
		{name: "a second argument", command: "git-upload-pack 'a.git' 'b.git'", wantErr: "bad quoting"},
		{name: "an unterminated quote", command: "git-upload-pack 'a.git", wantErr: "unterminated quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			service, path, err := parseCommand(tc.command)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseCommand(%q) = %q, %q, %v; want an error holding %q", tc.command, service, path, err, tc.wantErr)
				}
				return
			}
			if err != nil || service != tc.wantService || path != tc.wantPath {
				t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q", tc.command, service, path, err, tc.wantService, tc.wantPath)
			}
		})
	}
}

// resolveFixture is a root with the bare-looking directory fleet.git, a
// plain file, a link to fleet.git inside the root and links that leave it.
func resolveFixture(t *testing.T) *Root {
	t.Helper()
	dir, outside := t.TempDir(), t.TempDir()
	for _, d := range []string{"fleet.git", "teams/apps.git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(outside, "secret.git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file.git"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"alias.git":  "fleet.git",
		"escape.git": filepath.Join(outside, "secret.git"),
		"outside":    outside,
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestRootResolve(t *testing.T) {
	root := resolveFixture(t)
	for _, tc := range []struct {
		name, path, want, wantErr string
	}{
		{name: "a name with .git", path: "fleet.git", want: "fleet.git"},
		{name: "a leading slash", path: "/fleet.git", want: "fleet.git"},
		{name: ".git added", path: "fleet", want: "fleet.git"},
		{name: "a nested repository", path: "/teams/apps", want: "teams/apps.git"},
		{name: "a link inside the root resolves to its target", path: "alias", want: "fleet.git"},
		{name: "dot-dot", path: "../fleet.git", wantErr: "escapes the root"},
		{name: "dot-dot in the middle", path: "teams/../../x.git", wantErr: "escapes the root"},
		{name: "a link out of the root", path: "escape.git", wantErr: "escapes the root"},
		{name: "a link out of the root, .git added", path: "escape", wantErr: "escapes the root"},
		{name: "a path through a link out of the root", path: "outside/secret.git", wantErr: "escapes the root"},
		{name: "the root itself", path: ".", wantErr: "escapes the root"},
		{name: "empty", path: "", wantErr: `invalid repository ""`},
		{name: "a slash alone", path: "/", wantErr: "invalid repository"},
		{name: "two leading slashes", path: "//fleet.git", wantErr: "invalid repository"},
		{name: "missing", path: "missing", wantErr: `repository "missing" not found`},
		{name: "a file, not a directory", path: "file.git", wantErr: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := root.resolve(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("resolve(%q) = %q, %v; want an error holding %q", tc.path, got, err, tc.wantErr)
				}
				return
			}
			if want := filepath.Join(root.Dir, tc.want); err != nil || got != want {
				t.Errorf("resolve(%q) = %q, %v; want %q", tc.path, got, err, want)
			}
		})
	}
}

func TestRootResolveFailsWhenTheRootIsGone(t *testing.T) {
	root := resolveFixture(t)
	if err := os.RemoveAll(root.Dir); err != nil {
		t.Fatal(err)
	}
	if got, err := root.resolve("fleet.git"); err == nil {
		t.Errorf("resolve in a removed root = %q, want an error", got)
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		name, dir, path string
		want            bool
	}{
		{"a child", "/srv/git", "/srv/git/fleet.git", true},
		{"a grandchild", "/srv/git", "/srv/git/teams/apps.git", true},
		{"a child whose name starts with two dots", "/srv/git", "/srv/git/..fleet.git", true},
		{"the directory itself", "/srv/git", "/srv/git", false},
		{"its parent", "/srv/git", "/srv", false},
		{"a sibling sharing the prefix", "/srv/git", "/srv/gitx/fleet.git", false},
		{"a sibling", "/srv/git", "/srv/other/fleet.git", false},
		{"a relative path against an absolute directory", "/srv/git", "fleet.git", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := within(tc.dir, tc.path); got != tc.want {
				t.Errorf("within(%q, %q) = %v, want %v", tc.dir, tc.path, got, tc.want)
			}
		})
	}
}

// sqQuote quotes s as git's sq_quote_buf does before it sends a path over
// SSH: in single quotes, with ' and ! written as '\” and '\!'.
func sqQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '!' {
			b.WriteString(`'\` + s[i:i+1] + `'`)
			continue
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

func FuzzSQDequote(f *testing.F) {
	for _, seed := range []string{"fleet.git", "/teams/apps.git", "it's.git", "a!b", "''", "", "a b\tc\n", `\`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sqDequote(sqQuote(s))
		if err != nil || got != s {
			t.Errorf("sqDequote(%q) = %q, %v; want %q back", sqQuote(s), got, err, s)
		}
		// Any input, quoted or not, either fails or gives a path without
		// the quoting characters it was written with.
		if plain, err := sqDequote(s); err == nil && !strings.HasPrefix(s, "'") && plain != s {
			t.Errorf("sqDequote(%q) = %q: an unquoted argument must come back unchanged", s, plain)
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{"git-upload-pack '/fleet.git'", "git receive-pack 'a'", "git", "", "git-upload-pack 'x", "sh -c id"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, command string) {
		service, _, err := parseCommand(command)
		if err == nil && service != "upload-pack" && service != "receive-pack" {
			t.Errorf("parseCommand(%q) accepted service %q: only upload-pack and receive-pack may run", command, service)
		}
	})
}

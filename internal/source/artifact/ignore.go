package artifact

import (
	"bufio"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// IgnoreFile is the name of the file, at any depth of a repository, whose
// gitignore-style patterns leave files out of the artifact.
const IgnoreFile = ".flotillaignore"

// DefaultIgnore is what every artifact leaves out before other rules apply:
// version control and CI metadata, and binary media that no manifest needs.
var DefaultIgnore = []string{
	"/.git/", "/.github/", "/.gitlab-ci.yml", "/.circleci/",
	"*.png", "*.jpg", "*.jpeg", "*.gif", "*.zip", "*.tar.gz", "*.tgz",
}

// MaxIgnorePatterns caps the patterns of all .flotillaignore files and
// spec.ignore together. Every stored path is matched against every pattern,
// so a 1 MiB .flotillaignore (half a million patterns) made each path cost a
// third of a second and the write never end.
const MaxIgnorePatterns = 10000

// Ignore decides which paths are left out. Later patterns win over earlier
// ones, so a "!" pattern in spec.ignore can bring back a file that a default
// or a .flotillaignore excluded.
type Ignore struct {
	base  []gitignore.Pattern
	files []gitignore.Pattern
	spec  []gitignore.Pattern
}

// NewIgnore returns the rules: DefaultIgnore, then .flotillaignore files
// (added with AddFile as they are found), then the spec's patterns.
func NewIgnore(spec string) *Ignore {
	return &Ignore{base: parse(strings.Join(DefaultIgnore, "\n"), nil), spec: parse(spec, nil)}
}

// clone returns a copy that AddFile can extend without touching ig; a nil
// Ignore clones to the defaults.
func (ig *Ignore) clone() *Ignore {
	if ig == nil {
		return NewIgnore("")
	}
	c := *ig
	c.files = append([]gitignore.Pattern(nil), ig.files...)
	return &c
}

// AddFile adds the patterns of a .flotillaignore found in directory dir
// (slash separated, "" for the root); they apply below that directory.
func (ig *Ignore) AddFile(dir, content string) {
	var domain []string
	if dir != "" {
		domain = strings.Split(dir, "/")
	}
	ig.files = append(ig.files, parse(content, domain)...)
}

// patterns returns how many patterns the files and the spec hold.
func (ig *Ignore) patterns() int { return len(ig.files) + len(ig.spec) }

// Match reports whether the slash-separated path is ignored. A file is
// ignored too when any of its parent directories is.
func (ig *Ignore) Match(path string, isDir bool) bool {
	patterns := make([]gitignore.Pattern, 0, len(ig.base)+len(ig.files)+len(ig.spec))
	patterns = append(append(append(patterns, ig.base...), ig.files...), ig.spec...)
	m := gitignore.NewMatcher(patterns)
	parts := strings.Split(path, "/")
	for i := 1; i < len(parts); i++ {
		if m.Match(parts[:i], true) {
			return true
		}
	}
	return m.Match(parts, isDir)
}

func parse(content string, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

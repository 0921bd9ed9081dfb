package fleet

import (
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"sigs.k8s.io/yaml"
)

// kustomizationNames are the file names kustomize looks for in a directory.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// deepKeys are the kustomization fields whose files may name further files
// (generator and transformer configurations).
var deepKeys = map[string]bool{"generators": true, "transformers": true, "validators": true}

// maxRefLen bounds the strings considered as file references.
const maxRefLen = 1024

// inputs returns the files a render of dir can read, sorted: every file of
// every kustomization directory reachable from dir, every file or directory
// a string of those kustomizations names (whatever the field), and the whole
// subtree of a directory without a kustomization. It over-approximates on
// purpose: an extra file only costs a copy. exact is false when the
// closure cannot be trusted (a symlink, a path outside the fleet
// directory); the caller then renders from the whole tree. A file the
// closure misses makes the render fail, and the caller retries on the whole
// tree, so a miss costs time, never a wrong plan.
func (s *Snapshot) inputs(dir string) (files []string, exact bool) {
	if path.IsAbs(filepath.ToSlash(dir)) {
		return nil, false
	}
	dir = path.Clean("./" + filepath.ToSlash(dir)) // "" is ".", "./x" is "x"
	if !filepath.IsLocal(dir) && dir != "." {
		return nil, false
	}
	c := &closure{s: s, files: map[string]bool{}, visited: map[string]bool{}, exact: true}
	c.visitDir(dir)
	files = make([]string, 0, len(c.files))
	for p := range c.files {
		if s.files[p].mode == filemode.Symlink {
			c.exact = false
		}
		files = append(files, p)
	}
	slices.Sort(files)
	return files, c.exact
}

// closure collects the inputs of one render.
type closure struct {
	s       *Snapshot
	files   map[string]bool
	visited map[string]bool
	exact   bool
}

func (c *closure) addAll(paths []string) {
	for _, p := range paths {
		c.files[p] = true
	}
}

// visitDir adds a directory kustomize may load.
func (c *closure) visitDir(d string) {
	if c.visited[d] || !c.s.isDir(d) {
		return
	}
	c.visited[d] = true
	k := c.kustomization(d)
	if k == "" {
		c.addAll(c.s.subtree(d))
		return
	}
	c.addAll(c.s.direct[d])
	var doc map[string]any
	if yaml.Unmarshal(c.s.files[k].data, &doc) != nil {
		return // the render reports it
	}
	for key, v := range doc {
		c.scan(d, v, deepKeys[key])
	}
}

// kustomization returns the kustomization file of d, or "".
func (c *closure) kustomization(d string) string {
	for _, name := range kustomizationNames {
		if p := path.Join(d, name); c.s.isFile(p) {
			return p
		}
	}
	return ""
}

// scan follows every string of v as a possible path relative to base.
func (c *closure) scan(base string, v any, deep bool) {
	switch v := v.(type) {
	case string:
		c.ref(base, v, deep)
	case []any:
		for _, x := range v {
			c.scan(base, x, deep)
		}
	case map[string]any:
		for _, x := range v {
			c.scan(base, x, deep)
		}
	}
}

// ref adds what s names, when it names a file or directory: s itself, or
// the part after '=' (generator files: KEY=path).
func (c *closure) ref(base, s string, deep bool) {
	if s == "" || len(s) > maxRefLen || strings.ContainsAny(s, "\n\x00") {
		return
	}
	cands := []string{s}
	if _, after, ok := strings.Cut(s, "="); ok {
		cands = append(cands, after)
	}
	for _, cand := range cands {
		if path.IsAbs(cand) {
			continue
		}
		p := path.Join(base, cand)
		if !filepath.IsLocal(p) {
			continue
		}
		switch {
		case c.s.isFile(p):
			c.files[p] = true
			if deep && !c.visited[p] {
				c.visited[p] = true
				c.scanFile(base, p)
			}
		case c.s.isDir(p):
			c.visitDir(p)
		}
	}
}

// scanFile follows the strings of a generator or transformer configuration.
func (c *closure) scanFile(base, p string) {
	var doc any
	if yaml.Unmarshal(c.s.files[p].data, &doc) == nil {
		c.scan(base, doc, false)
	}
}

package render

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// guard walks every kustomization reachable from the rendered path before
// kustomize runs, and refuses what kustomize must never do here: fetch remote
// bases (it would exec git or make HTTP requests), render Helm charts, run
// exec or container functions, or name files outside the artifact. It also
// checks the files those kustomizations name, so that the common mistakes
// (broken YAML, a missing file) are reported with the file and line, and it
// collects secret values so that kustomize's own messages can be masked.
type guard struct {
	ctx           context.Context
	t             *tree
	rf            *resmap.Factory
	rootDir       string
	visited       map[string]bool
	secrets       []string
	buildMetadata []string
	objects       int       // objects in the resource files read so far
	dec           Decryptor // nil: no decryption configured
	openAPI       bool      // a kustomization sets openapi: (a process-global schema in kustomize)
}

func newGuard(ctx context.Context, t *tree, rootDir string) *guard {
	return &guard{
		ctx:     ctx,
		t:       t,
		rf:      resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory()),
		rootDir: rootDir,
		visited: map[string]bool{},
	}
}

// kustomization checks the kustomization in dir and everything it reaches.
// plugins means dir was reached from generators, transformers or validators,
// so every object it yields is a plugin configuration.
func (g *guard) kustomization(dir string, plugins bool) error {
	key := fmt.Sprintf("%t:%s", plugins, dir)
	if g.visited[key] {
		return nil
	}
	g.visited[key] = true
	if err := g.ctx.Err(); err != nil {
		return &Error{Path: dir, Err: err}
	}
	c, err := g.load(dir, plugins)
	if err != nil {
		return err
	}
	if dir == g.rootDir && !plugins {
		g.buildMetadata = c.k.BuildMetadata
	}
	for _, step := range []func() error{c.helm, c.resources, c.components, c.pluginLists, c.files, c.generators} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// load reads and parses the kustomization file of dir, exactly as kustomize does.
func (g *guard) load(dir string, plugins bool) (*check, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if err := g.t.refusedError(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	names := g.t.kustomizationFiles(dir)
	switch len(names) {
	case 0:
		return nil, &Error{Path: dir, Err: fmt.Errorf("%w: %s is a directory without a kustomization.yaml: add one, or list its files instead of the directory", ErrNotFound, dir)}
	case 1:
	default:
		return nil, &Error{Path: dir, Err: fmt.Errorf("%w: %s holds more than one kustomization file (%s): keep one", ErrInvalidKustomization, dir, strings.Join(names, ", "))}
	}
	file := filepath.Join(dir, names[0])
	data, err := g.t.readFile(file)
	if err != nil {
		return nil, &Error{Path: file, Err: err}
	}
	if err := checkAliases(file, data); err != nil {
		return nil, err
	}
	c := &check{g: g, dir: dir, file: file, plugins: plugins}
	if err := c.k.Unmarshal(data); err != nil {
		return nil, &Error{Path: file, Line: lineOf(err.Error()), Err: fmt.Errorf("%w: %v: fix the file", ErrInvalidKustomization, err)}
	}
	if len(c.k.OpenAPI) > 0 {
		g.openAPI = true
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil {
		c.doc = &doc
	}
	return c, nil
}

// check is the inspection of one kustomization file.
type check struct {
	g       *guard
	dir     string // relative to the artifact root
	file    string // relative to the artifact root
	k       types.Kustomization
	doc     *yaml.Node
	plugins bool // the objects this kustomization yields are plugin configurations
}

// fail returns an error located at the line of entry in the kustomization file.
func (c *check) fail(entry string, err error) error {
	return &Error{Path: c.file, Line: c.line(entry), Err: err}
}

// line finds the line of the first scalar equal to value, or 0.
func (c *check) line(value string) int {
	if c.doc == nil || value == "" {
		return 0
	}
	return scalarLine(c.doc, value)
}

func scalarLine(n *yaml.Node, value string) int {
	if n.Kind == yaml.ScalarNode && n.Value == value {
		return n.Line
	}
	for _, child := range n.Content {
		if l := scalarLine(child, value); l > 0 {
			return l
		}
	}
	return 0
}

func (c *check) helm() error {
	if len(c.k.HelmCharts) > 0 || c.k.HelmGlobals != nil || len(c.k.HelmChartInflationGenerator) > 0 {
		return c.fail("helmCharts", fmt.Errorf("%w: %s uses helmCharts or helmGlobals, which would run helm: "+
			"render the chart into plain manifests and commit those", ErrHelm, c.file))
	}
	return nil
}

// entry resolves an entry that names a file or directory, relative to the
// kustomization's directory, and refuses remote, absolute and escaping ones.
func (c *check) entry(field, e string) (string, error) {
	return c.resolve(field, e, e)
}

// resolve is entry for a path e written inside a longer scalar raw (a
// generator's "key=path"), which locates the line.
func (c *check) resolve(field, e, raw string) (string, error) {
	switch {
	case isRemote(e):
		return "", c.fail(raw, fmt.Errorf("%w: %s entry %q is remote: Flotilla renders only what is in the source; "+
			"vendor the base into the repository or add its repository as another source", ErrRemote, field, redact.URL(e)))
	case filepath.IsAbs(e) || strings.HasPrefix(e, "/") || strings.HasPrefix(e, `\`):
		return "", c.fail(raw, fmt.Errorf("%w: %s entry %q is an absolute path: use a path relative to %s", ErrOutsideRoot, field, e, c.file))
	}
	p := filepath.Join(c.dir, e)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", c.fail(raw, fmt.Errorf("%w: %s entry %q climbs above the artifact root: every file must be inside the repository", ErrOutsideRoot, field, e))
	}
	if at, r, refused := c.g.t.refusedAt(p); refused {
		return "", c.fail(raw, fmt.Errorf("%w: %s entry %q: %s is not loaded: %s", r.cause, field, e, at, r.reason))
	}
	return p, nil
}

// notFound is the error for entry e, written in the scalar raw, naming p
// that does not exist.
func (c *check) notFound(field, e, raw, p string) error {
	return c.fail(raw, fmt.Errorf("%w: %s entry %q: %s does not exist in the artifact: fix the path, or add the file", ErrNotFound, field, e, p))
}

func (c *check) resources() error {
	//lint:ignore SA1019 kustomize still reads this deprecated field, so the guard must check its paths too
	for _, e := range slices.Concat(c.k.Resources, c.k.Bases) {
		p, err := c.entry("resources", e)
		if err != nil {
			return err
		}
		switch {
		case c.g.t.isFile(p):
			err = c.g.resourceFile(p, c.plugins)
		case c.g.t.isDir(p):
			err = c.g.kustomization(p, c.plugins)
		default:
			err = c.notFound("resources", e, e, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *check) components() error {
	for _, e := range c.k.Components {
		p, err := c.entry("components", e)
		if err != nil {
			return err
		}
		switch {
		case c.g.t.isDir(p):
			err = c.g.kustomization(p, c.plugins)
		case c.g.t.isFile(p):
			err = c.fail(e, fmt.Errorf("%w: components entry %q is a file: a component is a directory with a kustomization.yaml of kind Component", ErrInvalidKustomization, e))
		default:
			err = c.notFound("components", e, e, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pluginLists checks generators, transformers and validators: inline
// configurations, files and directories alike.
func (c *check) pluginLists() error {
	lists := []struct {
		field   string
		entries []string
	}{{"generators", c.k.Generators}, {"transformers", c.k.Transformers}, {"validators", c.k.Validators}}
	for _, l := range lists {
		for _, e := range l.entries {
			if err := c.plugin(l.field, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *check) plugin(field, e string) error {
	// Kustomize tries every entry as inline YAML first; so does the guard.
	if rm, err := c.g.rf.NewResMapFromBytes([]byte(e)); err == nil {
		for _, r := range rm.Resources() {
			if err := checkPluginConfig(&r.RNode); err != nil {
				return c.fail(e, fmt.Errorf("%s entry: %w", field, err))
			}
		}
		return nil
	}
	p, err := c.entry(field, e)
	if err != nil {
		return err
	}
	switch {
	case c.g.t.isFile(p):
		return c.g.resourceFile(p, true)
	case c.g.t.isDir(p):
		return c.g.kustomization(p, true)
	}
	return c.notFound(field, e, e, p)
}

// files checks every field that names a single file.
func (c *check) files() error {
	for _, ref := range c.fileRefs() {
		p, err := c.resolve(ref.field, ref.entry, ref.raw)
		if err != nil {
			return err
		}
		if !c.g.t.isFile(p) {
			if ref.optional {
				continue
			}
			return c.notFound(ref.field, ref.entry, ref.raw, p)
		}
		if data, err := c.g.t.readFile(p); err == nil {
			if err := checkAliases(p, data); err != nil {
				return err
			}
		}
		if err := c.refuseEncrypted(ref, p); err != nil {
			return err
		}
	}
	return nil
}

type fileRef struct {
	field, entry string
	raw          string // the scalar the entry is written in
	optional     bool   // patchesStrategicMerge: an entry that is not a file is an inline patch
}

func (c *check) fileRefs() []fileRef {
	var refs []fileRef
	add := func(field string, entries ...string) {
		for _, e := range entries {
			if e != "" {
				refs = append(refs, fileRef{field: field, entry: e, raw: e})
			}
		}
	}
	add("crds", c.k.Crds...)
	add("configurations", c.k.Configurations...)
	add("openapi.path", c.k.OpenAPI["path"])
	for _, p := range c.k.Patches {
		add("patches", p.Path)
	}
	//lint:ignore SA1019 kustomize still reads this deprecated field, so the guard must check its paths too
	for _, p := range c.k.PatchesJson6902 {
		add("patchesJson6902", p.Path)
	}
	for _, r := range c.k.Replacements {
		add("replacements", r.Path)
	}
	//lint:ignore SA1019 kustomize still reads this deprecated field, so the guard must check its paths too
	for _, p := range c.k.PatchesStrategicMerge {
		if s := string(p); !strings.Contains(s, "\n") {
			refs = append(refs, fileRef{field: "patchesStrategicMerge", entry: s, raw: s, optional: true})
		}
	}
	for _, g := range c.generatorArgs() {
		add(g.field+".envs", slices.Concat(g.args.EnvSources, []string{g.args.EnvSource})...)
		for _, f := range g.args.FileSources {
			refs = append(refs, fileRef{field: g.field + ".files", entry: fileSourcePath(f), raw: f})
		}
	}
	return refs
}

// fileSourcePath returns the path of a generator `files` entry, "[key=]path".
func fileSourcePath(source string) string {
	if _, p, found := strings.Cut(source, "="); found {
		return p
	}
	return source
}

// remoteUser matches the user@ of an scp-style git URL, as kustomize does.
var remoteUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether a kustomization entry is a URL or a remote git
// spec, in any spelling kustomize or go-getter accepts (and a few more: the
// test errs on the side of refusing).
func isRemote(e string) bool {
	l := strings.ToLower(strings.TrimSpace(e))
	switch {
	case strings.Contains(l, "://"), strings.HasPrefix(l, "git::"), remoteUser.MatchString(l):
		return true
	case strings.HasPrefix(l, "github.com"), strings.HasPrefix(l, "gitlab.com"), strings.HasPrefix(l, "bitbucket.org"):
		return true
	case strings.Contains(l, "?"), strings.Contains(l, "//"), strings.Contains(l, "_git/"):
		return true
	}
	return false
}

package render

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// overlayDir holds the kustomization generated from the Stack-level options,
// outside the artifact so it can never be confused with the user's files.
const overlayDir = "/flotilla-stack"

// overlayName is how the generated overlay is named in error messages.
const overlayName = "(stack options)"

// kustomizationFiles returns the kustomization file names present in dir.
func (t *tree) kustomizationFiles(dir string) []string {
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if t.isFile(filepath.Join(dir, name)) {
			found = append(found, name)
		}
	}
	return found
}

// hasKustomization reports whether dir holds a kustomization file, loaded or refused.
func (t *tree) hasKustomization(dir string) bool {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, ok := t.refused[p]; ok || t.isFile(p) {
			return true
		}
	}
	return false
}

// prepareTarget checks that dir is a directory of the artifact and, when it
// has no kustomization, generates one. empty means there is nothing to render.
func (t *tree) prepareTarget(dir string) (empty bool, err error) {
	if err := t.refusedError(dir); err != nil {
		return false, err
	}
	if !t.isDir(dir) {
		return false, &Error{Path: dir, Err: fmt.Errorf("%w: the path to render is not a directory of the artifact: check the Stack's path", ErrNotFound)}
	}
	if t.hasKustomization(dir) {
		return false, nil
	}
	resources, err := t.listing(dir)
	if err != nil || len(resources) == 0 {
		return len(resources) == 0, err
	}
	k := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: resources,
	}
	t.generated = resources
	return false, t.writeKustomization(t.abs(filepath.Join(dir, konfig.DefaultKustomizationFileName())), k)
}

// listing lists, relative to dir, what a generated kustomization includes,
// as Flux does: every .yaml and .yml file below dir, except that a
// subdirectory holding its own kustomization is included as a whole and not
// entered. Hidden directories (.github, ...) are skipped. A refused file
// (escaping symlink, oversized) that would have been listed is an error, so
// that nothing silently goes missing.
func (t *tree) listing(dir string) ([]string, error) {
	var resources []string
	err := t.fs.Walk(t.abs(dir), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(t.abs(dir), p)
		switch {
		case rel == ".":
			return nil
		case info.IsDir() && strings.HasPrefix(info.Name(), "."):
			return filepath.SkipDir
		case info.IsDir() && t.hasKustomization(filepath.Join(dir, rel)):
			resources = append(resources, rel)
			return filepath.SkipDir
		case !info.IsDir() && isYAMLName(info.Name()):
			resources = append(resources, rel)
		}
		return nil
	})
	if err != nil {
		return nil, &Error{Path: dir, Err: err}
	}
	if err := t.refusedInListing(dir); err != nil {
		return nil, err
	}
	return resources, nil
}

// refusedInListing returns an error for the first refused path that a
// generated kustomization of dir would have included.
func (t *tree) refusedInListing(dir string) error {
	paths := make([]string, 0, len(t.refused))
	for p := range t.refused {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r := t.refused[p]
		if !(r.link || isYAMLName(p)) || !t.listed(dir, p) {
			continue
		}
		return t.refusedError(p)
	}
	return nil
}

// listed reports whether p is below dir on a path that listing enters.
func (t *tree) listed(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return false
	}
	for q := filepath.Dir(rel); q != "."; q = filepath.Dir(q) {
		if strings.HasPrefix(filepath.Base(q), ".") || t.hasKustomization(filepath.Join(dir, q)) {
			return false
		}
	}
	return true
}

func isYAMLName(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// writeOverlay generates the kustomization that applies the Stack-level
// options on top of the rendered path, the way Flux's kustomize-controller
// does, so that they behave exactly as the kustomize fields do. It carries
// the root kustomization's buildMetadata (the root's is the one kustomize
// obeys) plus origin annotations, which Flotilla uses to name files in errors
// and removes again unless the user asked for them.
func (t *tree) writeOverlay(o Options, buildMetadata []string) error {
	k := types.Kustomization{
		TypeMeta:          types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources:         []string{filepath.Join("..", artifactDir, o.Path)},
		Namespace:         o.TargetNamespace,
		CommonAnnotations: o.CommonAnnotations,
		Images:            overlayImages(o.Images),
		Patches:           overlayPatches(o.Patches),
		BuildMetadata:     buildMetadata,
	}
	if !slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		k.BuildMetadata = append(slices.Clone(k.BuildMetadata), types.OriginAnnotations)
	}
	if len(o.CommonLabels) > 0 {
		k.Labels = []types.Label{{Pairs: o.CommonLabels, IncludeSelectors: false}}
	}
	return t.writeKustomization(filepath.Join(overlayDir, konfig.DefaultKustomizationFileName()), k)
}

func (t *tree) writeKustomization(memPath string, k types.Kustomization) error {
	data, err := yaml.Marshal(k)
	if err != nil {
		return &Error{Path: overlayName, Err: err}
	}
	if err := t.fs.WriteFile(memPath, data); err != nil {
		return &Error{Path: overlayName, Err: err}
	}
	return nil
}

func overlayImages(images []Image) []types.Image {
	var out []types.Image
	for _, i := range images {
		out = append(out, types.Image{Name: i.Name, NewName: i.NewName, NewTag: i.NewTag, Digest: i.Digest})
	}
	return out
}

func overlayPatches(patches []Patch) []types.Patch {
	var out []types.Patch
	for _, p := range patches {
		tp := types.Patch{Patch: p.Patch}
		if s := p.Target; s != nil {
			tp.Target = &types.Selector{
				ResId: resid.ResId{
					Gvk:       resid.Gvk{Group: s.Group, Version: s.Version, Kind: s.Kind},
					Name:      s.Name,
					Namespace: s.Namespace,
				},
				LabelSelector:      s.LabelSelector,
				AnnotationSelector: s.AnnotationSelector,
			}
		}
		out = append(out, tp)
	}
	return out
}

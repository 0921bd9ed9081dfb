package ociimage

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name an image in an OCI layout: containerd's (which
// `ctr images import` uses as the image's name) and the OCI one (the tag).
const (
	containerdImageNameAnnotation = "io.containerd.image.name"
	ociRefNameAnnotation          = "org.opencontainers.image.ref.name"
)

// WriteTarball writes img to path as a docker-archive tarball tagged tag
// (such as ghcr.io/flotilla-io/flotilla:v0.1.0): the format `docker load`
// and `ctr -n k8s.io images import` read.
func WriteTarball(path, tag string, img v1.Image) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tarball tag %q: %w", tag, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := tarball.WriteToFile(path, t, img); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Index returns a multi-platform OCI index of imgs, each manifest carrying
// its image's platform.
func Index(imgs ...v1.Image) (v1.ImageIndex, error) {
	adds := make([]mutate.IndexAddendum, 0, len(imgs))
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("read an image's config: %w", err)
		}
		p := cf.Platform()
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx, adds...), nil
}

// WriteOCILayout writes a (an image or an index) into a new OCI image
// layout at dir, named ref in its index.json.
func WriteOCILayout(dir, ref string, a Artifact) error {
	t, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("layout ref %q: %w", ref, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("create the OCI layout %s: %w", dir, err)
	}
	ann := layout.WithAnnotations(map[string]string{
		containerdImageNameAnnotation: t.Name(),
		ociRefNameAnnotation:          t.TagStr(),
	})
	switch a := a.(type) {
	case v1.ImageIndex:
		err = p.AppendIndex(a, ann)
	case v1.Image:
		err = p.AppendImage(a, ann)
	default:
		err = fmt.Errorf("%T is neither an image nor an index", a)
	}
	if err != nil {
		return fmt.Errorf("write into the OCI layout %s: %w", dir, err)
	}
	return nil
}

// WriteOCIArchive writes a as an OCI image layout in a tar archive at path,
// the format `ctr images import` reads for multi-platform indexes. Every
// entry has the same timestamp, so the archive is reproducible.
func WriteOCIArchive(path, ref string, a Artifact) error {
	dir, err := os.MkdirTemp("", "ociimage-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := WriteOCILayout(dir, ref, a); err != nil {
		return err
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	return tarDir(path, dir, mtime)
}

// tarDir writes the files under dir into a tar archive at path, in lexical
// order, with mtime for every time.
func tarDir(path, dir string, mtime time.Time) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	walk := func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		return addToTar(tw, dir, p, d, mtime)
	}
	if err := filepath.WalkDir(dir, walk); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return tw.Close()
}

func addToTar(tw *tar.Writer, dir, p string, d fs.DirEntry, mtime time.Time) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Mode: 0o644, Typeflag: tar.TypeReg, Size: info.Size()}
	if d.IsDir() {
		h.Name, h.Mode, h.Typeflag, h.Size = h.Name+"/", 0o755, tar.TypeDir, 0
	}
	if err := tw.WriteHeader(h); err != nil || d.IsDir() {
		return err
	}
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(tw, src)
	return err
}

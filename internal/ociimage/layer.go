package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tmpMode is /tmp's mode: writable by all, sticky.
const tmpMode = fs.ModeDir | fs.ModeSticky | 0o777

// entry is one tar entry of the layer: a directory or a regular file.
type entry struct {
	mode fs.FileMode
	data []byte
}

// newLayer returns a gzip-compressed OCI layer holding files, /tmp and the
// parent directories of every file, owned by root, every time set to mtime.
func newLayer(files []File, mtime time.Time) (v1.Layer, error) {
	entries, err := layerEntries(files)
	if err != nil {
		return nil, err
	}
	b, err := writeTar(entries, mtime)
	if err != nil {
		return nil, err
	}
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return tarball.LayerFromOpener(opener, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// layerEntries maps each path in the layer (relative, no leading slash) to
// its entry, reading files from the host.
func layerEntries(files []File) (map[string]entry, error) {
	entries := map[string]entry{"tmp": {mode: tmpMode}}
	for _, f := range files {
		p, err := layerPath(f.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := entries[p]; dup {
			return nil, fmt.Errorf("%s is in the image twice", f.Path)
		}
		data, err := f.content()
		if err != nil {
			return nil, err
		}
		entries[p] = entry{mode: f.mode(), data: data}
	}
	return entries, addParents(entries)
}

// addParents adds a 0755 directory for every parent of an entry, and fails
// when a parent is a file.
func addParents(entries map[string]entry) error {
	for p := range entries {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			e, ok := entries[dir]
			if ok && !e.mode.IsDir() {
				return fmt.Errorf("/%s is a file and the parent directory of /%s", dir, p)
			}
			if !ok {
				entries[dir] = entry{mode: fs.ModeDir | 0o755}
			}
		}
	}
	return nil
}

// layerPath turns /a/b into a/b and refuses paths that are not absolute
// and clean.
func layerPath(p string) (string, error) {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return "", fmt.Errorf("path %q in the image must be absolute and clean, such as /flotilla", p)
	}
	return strings.TrimPrefix(p, "/"), nil
}

func (f File) mode() fs.FileMode {
	if f.Mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == 0 {
		return 0o644
	}
	return f.Mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

func (f File) content() ([]byte, error) {
	if f.Source == "" {
		return f.Data, nil
	}
	b, err := os.ReadFile(f.Source)
	if err != nil {
		return nil, fmt.Errorf("read %s for %s in the image: %w", f.Source, f.Path, err)
	}
	return b, nil
}

// writeTar writes entries in path order, so the bytes depend on nothing but
// the entries and mtime.
func writeTar(entries map[string]entry, mtime time.Time) ([]byte, error) {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		if err := writeEntry(tw, p, entries[p], mtime); err != nil {
			return nil, fmt.Errorf("write /%s into the layer: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close the layer: %w", err)
	}
	return buf.Bytes(), nil
}

func writeEntry(tw *tar.Writer, p string, e entry, mtime time.Time) error {
	h := &tar.Header{Name: p, Mode: tarMode(e.mode), ModTime: mtime}
	if e.mode.IsDir() {
		h.Typeflag, h.Name = tar.TypeDir, p+"/"
	} else {
		h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := tw.Write(e.data)
	return err
}

// tarMode is m as the permission bits of a tar header (c_ISUID and friends).
func tarMode(m fs.FileMode) int64 {
	bits := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}

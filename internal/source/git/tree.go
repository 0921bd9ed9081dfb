package git

import (
	"errors"
	"io"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/flotilla-io/flotilla/internal/source/artifact"
)

var _ artifact.Source = (*Result)(nil)

// Walk calls fn for every file of the commit's tree: regular files,
// executables and symlinks, in tree order. Submodules are skipped.
func (r *Result) Walk(fn func(artifact.Entry) error) error {
	tree, err := r.Commit.Tree()
	if err != nil {
		return err
	}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		mode, ok := fileMode(entry.Mode)
		if !ok {
			continue
		}
		file, err := tree.TreeEntryFile(&entry)
		if err != nil {
			return err
		}
		if err := fn(artifact.Entry{Path: name, Mode: mode, Size: file.Size, Open: file.Reader}); err != nil {
			return err
		}
	}
}

func fileMode(m filemode.FileMode) (fs.FileMode, bool) {
	switch m {
	case filemode.Regular, filemode.Deprecated:
		return 0o644, true
	case filemode.Executable:
		return 0o755, true
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777, true
	default: // directories, submodules
		return 0, false
	}
}

package setters

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// MaxFileSize is the largest file rewritten; bigger ones get a warning.
const MaxFileSize = 4 << 20

// ErrOutsideRepository means an update path leaves the repository or goes
// through a symlink.
var ErrOutsideRepository = errors.New("path leaves the repository")

// Report is what Apply did.
type Report struct {
	// Result holds the changes, Flux's .Changed.
	Result Result
	// Warnings are markers left alone.
	Warnings []Warning
}

// Apply rewrites the marked values of every .yaml and .yml file under
// updatePath (relative to repoDir, "" for all of it). Every read and write
// goes through an os.Root on repoDir, so nothing outside it is touched;
// updatePath may not contain symlinks or "..", and symlinked files and
// directories under it are not followed (a warning names them). The .git
// directory is never read.
func Apply(ctx context.Context, repoDir, updatePath string, policies Policies) (*Report, error) {
	root, err := os.OpenRoot(repoDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	start, err := confine(root, updatePath)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	err = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return rep.visit(root, p, d, policies)
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", start, err)
	}
	return rep, nil
}

// confine cleans updatePath and checks that each of its components is a
// real directory inside the root.
func confine(root *os.Root, updatePath string) (string, error) {
	if path.IsAbs(updatePath) || slices.Contains(strings.Split(updatePath, "/"), "..") {
		return "", fmt.Errorf("update path %q: %w", updatePath, ErrOutsideRepository)
	}
	rel := path.Clean(updatePath)
	if rel == "." {
		return rel, nil
	}
	cur := ""
	for _, seg := range strings.Split(rel, "/") {
		cur = path.Join(cur, seg)
		fi, err := root.Lstat(cur)
		if err != nil {
			return "", fmt.Errorf("update path %q: %w", updatePath, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("update path %q: %s is a symlink: %w", updatePath, cur, ErrOutsideRepository)
		}
	}
	return rel, nil
}

// visit rewrites one file of the walk.
func (r *Report) visit(root *os.Root, p string, d fs.DirEntry, policies Policies) error {
	switch {
	case d.IsDir() && d.Name() == ".git":
		return fs.SkipDir
	case d.IsDir():
		return nil
	case !isYAML(p):
		return nil
	case d.Type()&fs.ModeSymlink != 0:
		r.Warnings = append(r.Warnings, Warning{File: p, Reason: "symlink not followed"})
		return nil
	case !d.Type().IsRegular():
		return nil
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	if info.Size() > MaxFileSize {
		r.Warnings = append(r.Warnings, Warning{File: p, Reason: fmt.Sprintf("file larger than %d bytes not rewritten", MaxFileSize)})
		return nil
	}
	content, err := root.ReadFile(p)
	if err != nil {
		return err
	}
	out, changes, warnings := SetFile(p, content, policies)
	r.Warnings = append(r.Warnings, warnings...)
	if len(changes) == 0 {
		return nil
	}
	for _, c := range changes {
		r.Result.add(p, c.Object, c.Change)
	}
	return root.WriteFile(p, out, info.Mode().Perm())
}

func isYAML(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}

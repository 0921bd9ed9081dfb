package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// stackCheckout finds what diff and build --path render for a Stack in a
// local checkout: the root that confines the render and the path in it.
// given is either the repository root, where the Stack's spec.path is, or,
// as `flux diff kustomization --path` means it, the Stack's own directory:
// a directory whose path ends in spec.path, whose root is the rest.
func stackCheckout(given string, st *v1alpha1.Stack) (root, path string, err error) {
	if given == "" {
		given = "."
	}
	abs, err := filepath.Abs(given)
	if err != nil {
		return "", "", err
	}
	if !isDir(abs) {
		return "", "", fmt.Errorf("--path %s is not a directory: give the root of a local checkout of the Stack's repository, or the Stack's own directory in it", given)
	}
	spec := filepath.Clean(filepath.FromSlash(st.Spec.Path))
	if spec == "." || filepath.IsAbs(spec) || isDir(filepath.Join(abs, spec)) {
		return abs, st.Spec.Path, nil
	}
	if prefix, ok := strings.CutSuffix(abs, string(filepath.Separator)+spec); ok {
		return prefix, st.Spec.Path, nil
	}
	// A root that lacks spec.path: the render says so.
	return abs, st.Spec.Path, nil
}

// isDir says whether path is a directory.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

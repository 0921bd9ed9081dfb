package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestStackCheckoutAcceptsTheRootOrTheStacksOwnDirectory(t *testing.T) {
	checkout := t.TempDir()
	overlay := filepath.Join(checkout, "apps", "overlays", "staging")
	other := filepath.Join(checkout, "apps", "overlays", "try-me")
	for _, d := range []string{overlay, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("git", "init", "-q", checkout).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	plain := t.TempDir() // not a Git checkout
	plainOverlay := filepath.Join(plain, "apps", "overlays", "staging")
	if err := os.MkdirAll(plainOverlay, 0o755); err != nil {
		t.Fatal(err)
	}
	st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Path: "./apps/overlays/staging"}}
	tests := []struct {
		name, given, root, path string
	}{
		{"the-repository-root", checkout, checkout, "./apps/overlays/staging"},
		{"the-stacks-own-directory-as-flux-diff-means-it", overlay, checkout, "./apps/overlays/staging"},
		{"another-directory-is-a-root-that-lacks-the-path", other, other, "./apps/overlays/staging"},
		{"outside-git-the-root", plain, plain, "./apps/overlays/staging"},
		{"outside-git-a-directory-ending-in-the-path", plainOverlay, plain, "./apps/overlays/staging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, path, err := stackCheckout(tt.given, st)
			if err != nil {
				t.Fatal(err)
			}
			if root != tt.root || path != tt.path {
				t.Errorf("stackCheckout(%s) = %s, %s; want %s, %s", tt.given, root, path, tt.root, tt.path)
			}
		})
	}
	if _, _, err := stackCheckout(filepath.Join(checkout, "missing"), st); err == nil {
		t.Error("a --path that is not a directory must be refused")
	}
}

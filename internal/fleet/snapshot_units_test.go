package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
)

func TestMaterializeWritesFilesAndLinks(t *testing.T) {
	s := newSnapshot("test")
	s.add("a/b/c.yaml", filemode.Regular, plumbing.ZeroHash, []byte("kind: ConfigMap\n"))
	s.add("a/b/d.yaml", filemode.Executable, plumbing.ZeroHash, []byte("#!/bin/sh\n"))
	s.add("a/link.yaml", filemode.Symlink, plumbing.ZeroHash, []byte("b/c.yaml"))
	s.add("top.yaml", filemode.Regular, plumbing.ZeroHash, []byte("x\n"))
	s.index()
	dir := t.TempDir()
	if err := s.materialize(t.Context(), dir, []string{"a/b/c.yaml", "a/b/d.yaml", "a/link.yaml"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "a", "link.yaml"))
	if err != nil || string(got) != "kind: ConfigMap\n" {
		t.Errorf("reading through the link: %q, %v", got, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "a", "link.yaml")); err != nil || target != "b/c.yaml" {
		t.Errorf("link target = %q, %v", target, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "top.yaml")); !os.IsNotExist(err) {
		t.Errorf("a file that was not asked for was written (stat: %v)", err)
	}
}

func TestMaterializeRefusesAPathLeavingTheSnapshot(t *testing.T) {
	s := newSnapshot("evil")
	s.add("../escape.yaml", filemode.Regular, plumbing.ZeroHash, []byte("x"))
	s.index()
	parent := t.TempDir()
	dir := filepath.Join(parent, "snapshot")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := s.materialize(t.Context(), dir, []string{"../escape.yaml"})
	if err == nil || !strings.Contains(err.Error(), "writing ../escape.yaml of the snapshot: the path leaves the snapshot") {
		t.Errorf("err = %v, want one naming the path", err)
	}
	if _, statErr := os.Stat(filepath.Join(parent, "escape.yaml")); !os.IsNotExist(statErr) {
		t.Errorf("a file was written outside (stat: %v)", statErr)
	}
}

func TestMaterializeStopsWithItsContext(t *testing.T) {
	s := snapshotOf("a.yaml", "b.yaml")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := t.TempDir()
	if err := s.materialize(ctx, dir, s.paths); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files written after the context was done", len(entries))
	}
	if err := s.materialize(t.Context(), filepath.Join(dir, "missing"), s.paths); err == nil {
		t.Error("materialize into a missing directory did not fail")
	}
}

func TestFullIsWrittenOnce(t *testing.T) {
	s := snapshotOf("clusters/prod/kustomization.yaml", "apps/x.yaml")
	tmp := t.TempDir()
	a, err := s.full(t.Context(), tmp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.full(t.Context(), tmp)
	if err != nil || a != b {
		t.Errorf("full twice: %q and %q (%v), want one directory", a, b, err)
	}
	var files []string
	err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(a, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"apps/x.yaml", "clusters/prod/kustomization.yaml"}, files); diff != "" {
		t.Errorf("files of the full tree (-want +got):\n%s", diff)
	}
}

func TestFullRemembersItsError(t *testing.T) {
	s := snapshotOf("a.yaml")
	missing := filepath.Join(t.TempDir(), "missing")
	_, first := s.full(t.Context(), missing)
	if first == nil {
		t.Fatal("full under a missing directory did not fail")
	}
	if err := os.Mkdir(missing, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.full(t.Context(), missing); err != first {
		t.Errorf("second full = %v, want the first's error %v: a snapshot is written once per plan", err, first)
	}
}

func TestClustersIgnoresFilesDirectlyUnderClusters(t *testing.T) {
	s := snapshotOf("clusters/kustomization.yaml", "clusters/prod/a/b/c.yaml", "clusters/dev/x.yaml", "other/clusters/test/x.yaml")
	if diff := cmp.Diff([]string{"dev", "prod"}, s.Clusters()); diff != "" {
		t.Errorf("Clusters (-want +got):\n%s", diff)
	}
	if got := newSnapshot("empty"); len(got.Clusters()) != 0 {
		t.Errorf("an empty snapshot has clusters %v", got.Clusters())
	}
}

package render

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/redact"
)

func TestIsRemote(t *testing.T) {
	tests := []struct {
		entry string
		want  bool
	}{
		{"../../apps/base", false},
		{"deployment.yaml", false},
		{"apps/base", false},
		{"github-actions/runner.yaml", false},
		{"gitlab-runner", false},
		{"user@example.yaml", true}, // kustomize reads user@host as an scp-style git URL
		{"https://example.com/x.yaml", true},
		{"HTTPS://EXAMPLE.COM/x.yaml", true},
		{"github.com/org/repo", true},
		{"git@github.com:org/repo.git", true},
		{"git::ssh://example.com/repo", true},
		{"base?ref=v1", true},
		{"host/org//path", true},
		{" https://example.com/x.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			if got := isRemote(tt.entry); got != tt.want {
				t.Errorf("isRemote(%q) = %t, want %t", tt.entry, got, tt.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"", ".", nil},
		{".", ".", nil},
		{"./clusters/prod/", "clusters/prod", nil},
		{"apps/../clusters", "clusters", nil},
		{"..", "", ErrOutsideRoot},
		{"../x", "", ErrOutsideRoot},
		{"a/../../x", "", ErrOutsideRoot},
		{"/etc", "", ErrOutsideRoot},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := cleanPath(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("cleanPath(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestKustomizeErrorMessages(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{
			name: "in-memory-paths-become-relative",
			raw:  "accumulating resources from '../artifact/clusters/prod': recursed accumulation of path '/artifact/apps/base': boom",
			want: "render clusters/prod: kustomize build failed: accumulating resources from 'clusters/prod': recursed accumulation of path 'apps/base': boom",
		},
		{
			name: "overlay-is-named",
			raw:  "in /flotilla-stack/kustomization.yaml: bad",
			want: "render clusters/prod: kustomize build failed: in (stack options)/kustomization.yaml: bad",
		},
		{
			name: "file-then-directory-noise-is-dropped",
			raw:  "accumulating resources: accumulation err='accumulating resources from '../artifact/x': cannot read content from non-file '/'': real problem",
			want: "render clusters/prod: kustomize build failed: accumulating resources: real problem",
		},
		{
			name: "dumped-objects-are-summarized-and-secrets-masked",
			raw:  `conflict: [{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"a"},"stringData":{"k":"hunter22"}}] and hunter22 {"a":1} {"not": "closed"`,
			want: `render clusters/prod: kustomize build failed: conflict: [<Secret a/s>] and ***** {"a":1} {"not": "closed"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kustomizeError("clusters/prod", errors.New(tt.raw), redact.New("hunter22"))
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Error(diff)
			}
			if !errors.Is(err, ErrKustomize) {
				t.Errorf("%v is not ErrKustomize", err)
			}
		})
	}
	if err := kustomizeError(".", context.DeadlineExceeded, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a deadline is reported as %v", err)
	}
}

func TestStackOptionsChecked(t *testing.T) {
	base := at("stack-options", "")
	patch := func(p Patch) func(t *testing.T) Options {
		return with(base, func(o *Options) { o.Patches = []Patch{p} })
	}
	runErrorCases(t, []errorCase{
		{name: "empty-patch", opts: patch(Patch{Patch: "  \n"}), is: ErrInvalidOptions, contains: []string{"patches[0] is empty"}},
		{name: "patch-not-yaml", opts: patch(Patch{Patch: "{{{"}), is: ErrInvalidOptions, contains: []string{"patches[0] is not valid YAML"}},
		{
			name: "json6902-without-target", opts: patch(Patch{Patch: "- op: add\n  path: /x\n  value: 1\n"}),
			is: ErrInvalidOptions, contains: []string{"give it a target"},
		},
		{
			name: "patch-matching-nothing", opts: patch(Patch{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nothere\n"}),
			is: ErrKustomize, path: ".", contains: []string{"no resource matches strategic merge patch"},
		},
	})
}

func TestUnloadableFilesNamed(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			name: "named-pipe-in-plain-directory",
			opts: func(t *testing.T) Options {
				root := writeTree(t, map[string]string{"cm.yaml": configMap})
				if err := syscall.Mkfifo(filepath.Join(root, "pipe.yaml"), 0o644); err != nil {
					t.Skipf("cannot create a named pipe here: %v", err)
				}
				return Options{Root: root}
			},
			is: ErrNotFound, path: "pipe.yaml", contains: []string{"not a regular file"},
		},
		{
			name: "name-the-in-memory-file-system-refuses",
			opts: files(map[string]string{"café.yaml": configMap}, ""),
			is:   ErrNotFound, path: "café.yaml", contains: []string{"characters the renderer does not support"},
		},
	})
}

func TestUnreferencedPipeIgnored(t *testing.T) {
	root := writeTree(t, map[string]string{"apps/cm.yaml": configMap})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("cannot create a named pipe here: %v", err)
	}
	objs, err := buildBoth(t, Options{Root: root, Path: "apps"})
	if err != nil || len(objs) != 1 {
		t.Fatalf("got %d objects, %v", len(objs), err)
	}
}

func TestListingSkipsWhatFluxSkips(t *testing.T) {
	root := writeTree(t, map[string]string{
		"a.yaml":                    strings.Replace(configMap, "name: cm", "name: a", 1),
		"sub/b.yml":                 strings.Replace(configMap, "name: cm", "name: b", 1),
		"sub/notes.txt":             "not yaml",
		".hidden/c.yaml":            "not even a kubernetes object",
		"kust/kustomization.yaml":   "resources: [d.yaml]\n",
		"kust/d.yaml":               strings.Replace(configMap, "name: cm", "name: d", 1),
		"kust/not-listed.yaml":      "not even a kubernetes object",
		"kust/deeper/also-not.yaml": "not even a kubernetes object",
	})
	objs, err := buildBoth(t, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	if diff := cmp.Diff([]string{"a", "d", "b"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestObjectName(t *testing.T) {
	for _, tt := range []struct{ kind, ns, name, want string }{
		{"Deployment", "shop", "web", "Deployment shop/web"},
		{"ClusterRole", "", "reader", "ClusterRole reader"},
	} {
		if got := objectName(tt.kind, tt.ns, tt.name); got != tt.want {
			t.Errorf("objectName = %q, want %q", got, tt.want)
		}
	}
}

package render

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errorCase is a render that must fail: with the sentinel is, at Path and
// Line of the *Error, with a message that contains every string of contains
// and none of secrets (in clear or base64). Each case runs on the default
// path (the fast path where it applies) and through kustomize only;
// kustomize, when set, is what the kustomize path must give instead, where
// its message differs (fastpath.go).
type errorCase struct {
	name      string
	opts      func(t *testing.T) Options
	is        error
	path      string
	line      int
	object    string
	contains  []string
	secrets   []string
	kustomize *errorCase
}

// runErrorCases builds each case on both paths and checks the errors.
func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, tc.opts(t)) })
		t.Run(tc.name+"/kustomize", func(t *testing.T) {
			o := tc.opts(t)
			o.kustomizeOnly = true
			want := tc
			if tc.kustomize != nil {
				want = *tc.kustomize
			}
			want.check(t, o)
		})
	}
}

// check builds opts and checks the error.
func (tc errorCase) check(t *testing.T, opts Options) {
	t.Helper()
	objs, err := Build(context.Background(), opts)
	if err == nil {
		t.Fatalf("got %d objects and no error, want %v", len(objs), tc.is)
	}
	if !errors.Is(err, tc.is) {
		t.Errorf("got %v, want errors.Is %v", err, tc.is)
	}
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("got %T, want *Error", err)
	}
	got := struct {
		Path, Object string
		Line         int
	}{re.Path, re.Object, re.Line}
	want := struct {
		Path, Object string
		Line         int
	}{tc.path, tc.object, tc.line}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error location differs (-want +got):\n%s\nerror: %v", diff, err)
	}
	for _, s := range tc.contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	assertNoSecret(t, err.Error(), tc.secrets...)
}

// at returns Options for fixture name and path.
func at(name, path string) func(t *testing.T) Options {
	return func(t *testing.T) Options { return Options{Root: fixture(t, name), Path: path} }
}

// files returns Options for a tree written from contents.
func files(contents map[string]string, path string) func(t *testing.T) Options {
	return func(t *testing.T) Options { return Options{Root: writeTree(t, contents), Path: path} }
}

// with returns base with f applied.
func with(base func(t *testing.T) Options, f func(o *Options)) func(t *testing.T) Options {
	return func(t *testing.T) Options {
		o := base(t)
		f(&o)
		return o
	}
}

func TestBuildErrorsNameTheFile(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			name: "broken-yaml-names-file-and-line", opts: at("broken-yaml", ""),
			is: ErrInvalidYAML, path: "deployment.yaml", line: 7,
			contains: []string{"render deployment.yaml:7:", "fix the syntax"},
		},
		{
			name: "broken-yaml-in-second-document-names-line-in-file", opts: at("broken-yaml-second-document", ""),
			is: ErrInvalidYAML, path: "objects.yaml", line: 13,
			contains: []string{"objects.yaml:13", "did not find expected ',' or ']'"},
		},
		{
			name: "broken-kustomization-names-file-and-line", opts: at("broken-kustomization", ""),
			is: ErrInvalidKustomization, path: "kustomization.yaml", line: 4,
			contains: []string{"kustomization.yaml:4"},
		},
		{
			name: "missing-resource-names-kustomization-and-file", opts: at("missing-resource", ""),
			is: ErrNotFound, path: "kustomization.yaml", line: 3,
			contains: []string{`resources entry "missing.yaml"`, "missing.yaml does not exist", "add the file"},
		},
		{
			name: "missing-base-names-kustomization-and-base", opts: at("missing-base", "clusters/prod"),
			is: ErrNotFound, path: "clusters/prod/kustomization.yaml", line: 3,
			contains: []string{`"../../apps/does-not-exist"`, "apps/does-not-exist does not exist"},
		},
		{
			name: "path-that-does-not-exist", opts: at("fleet", "clusters/dev"),
			is: ErrNotFound, path: "clusters/dev",
			contains: []string{"check the Stack's path"},
		},
		{
			name: "path-that-is-a-file", opts: at("fleet", "apps/base/service.yaml"),
			is: ErrNotFound, path: "apps/base/service.yaml",
		},
		{
			name: "directory-base-without-kustomization",
			opts: files(map[string]string{
				"kustomization.yaml": "resources:\n- base\n",
				"base/cm.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
			}, ""),
			is: ErrNotFound, path: "base",
			contains: []string{"without a kustomization.yaml"},
		},
		{
			name: "document-without-kind",
			opts: files(map[string]string{"cm.yaml": "apiVersion: v1\nmetadata:\n  name: cm\n"}, ""),
			is:   ErrInvalidYAML, path: "cm.yaml",
			contains: []string{"document 1 has no kind"},
		},
		{
			name: "relative-root", opts: func(*testing.T) Options { return Options{Root: "testdata/fleet"} },
			is: ErrInvalidOptions,
		},
		{
			name: "duplicate-objects-name-the-object", opts: at("duplicate-objects", ""),
			is: ErrDuplicate, path: "second.yaml", object: "Service shop/web",
			contains:  []string{"Service.v1.[noGrp]/web.shop is defined twice, in first.yaml and in second.yaml", "remove one"},
			kustomize: &errorCase{is: ErrDuplicate, path: ".", contains: []string{"Service.v1.[noGrp]/web.shop", "'second.yaml'", "remove one"}},
		},
		{
			name: "duplicate-after-substitution-names-both-files",
			opts: with(at("duplicate-after-substitution", ""), func(o *Options) {
				o.Substitute = map[string]string{"FIRST": "same", "SECOND": "same"}
			}),
			is: ErrDuplicate, path: "b.yaml", object: "ConfigMap shop/settings-same",
			contains: []string{"defined twice, in a.yaml and in b.yaml"},
		},
		{
			name: "duplicate-across-namespaces-after-target-namespace",
			opts: with(files(map[string]string{
				"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: one\n",
				"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: two\n",
			}, ""), func(o *Options) { o.TargetNamespace = "same" }),
			is: ErrDuplicate, path: "b.yaml", object: "ConfigMap same/cm",
			contains:  []string{"with the target namespace same, ConfigMap.v1.[noGrp]/cm.same is defined twice, in a.yaml and in b.yaml"},
			kustomize: &errorCase{is: ErrDuplicate, path: ".", contains: []string{"ID conflict: [<ConfigMap same/cm> <ConfigMap same/cm>]"}},
		},
	})
}

func TestBuildErrorsNeverHoldSecrets(t *testing.T) {
	runErrorCases(t, []errorCase{
		{
			name: "secret-value-quoted-by-kustomize-is-masked", opts: at("secret-in-kustomize-error", ""),
			is: ErrKustomize, path: ".",
			contains: []string{"out of bounds for value *****"},
			secrets:  []string{"s3cr3t-marker-value"},
		},
		{
			name: "secret-generator-literal-without-key",
			opts: files(map[string]string{
				"kustomization.yaml": "secretGenerator:\n- name: creds\n  literals:\n  - s3cr3t-literal-marker\n",
			}, ""),
			is: ErrInvalidKustomization, path: "kustomization.yaml",
			contains: []string{`secretGenerator "creds": literal 1 is not KEY=VALUE`},
			secrets:  []string{"s3cr3t-literal-marker"},
		},
		{
			name: "secret-env-file-not-utf8",
			opts: files(map[string]string{
				"kustomization.yaml": "secretGenerator:\n- name: creds\n  envs: [creds.env]\n",
				"creds.env":          "OK=fine\nTOKEN=s3cr3t-env-marker\xff\xfe\n",
			}, ""),
			is: ErrInvalidKustomization, path: "creds.env", line: 2,
			secrets: []string{"s3cr3t-env-marker"},
		},
		{
			// kustomize's message for this conflict prints both objects whole.
			name: "secrets-dumped-by-kustomize-are-summarized",
			opts: with(files(map[string]string{
				"a.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: one\nstringData:\n  token: s3cr3t-string-marker\n",
				"b.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: two\ndata:\n  token: " +
					base64.StdEncoding.EncodeToString([]byte("s3cr3t-data-marker")) + "\n",
			}, ""), func(o *Options) { o.TargetNamespace = "same" }),
			is: ErrDuplicate, path: "b.yaml", object: "Secret same/s",
			contains: []string{"Secret.v1.[noGrp]/s.same is defined twice"},
			secrets:  []string{"s3cr3t-string-marker", "s3cr3t-data-marker"},
			kustomize: &errorCase{is: ErrDuplicate, path: ".", contains: []string{"<Secret same/s> <Secret same/s>"},
				secrets: []string{"s3cr3t-string-marker", "s3cr3t-data-marker"}},
		},
	})
}

func TestBuildRefusesLimits(t *testing.T) {
	big := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: " + strings.Repeat("x", 4096) + "\n"
	small := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n"
	runErrorCases(t, []errorCase{
		{
			name: "file-over-size-limit-is-named",
			opts: with(files(map[string]string{"big.yaml": big, "small.yaml": small}, ""), func(o *Options) { o.MaxFileSize = 1024 }),
			is:   ErrTooLarge, path: "big.yaml",
			contains: []string{"larger than the limit of 1024 bytes"},
		},
		{
			name: "referenced-file-over-size-limit",
			opts: with(files(map[string]string{
				"kustomization.yaml": "configMapGenerator:\n- name: blob\n  files: [data/big.bin]\n",
				"data/big.bin":       big,
			}, ""), func(o *Options) { o.MaxFileSize = 1024 }),
			is: ErrTooLarge, path: "kustomization.yaml", line: 3,
			contains: []string{"data/big.bin is not loaded"},
		},
		{
			name: "artifact-over-total-limit",
			opts: with(files(map[string]string{"a.yaml": big, "b.yaml": big}, ""), func(o *Options) { o.MaxTotalSize = 6000 }),
			is:   ErrTooLarge, path: "b.yaml",
			contains: []string{"more than 6000 bytes"},
		},
	})
}

func TestBuildIgnoresUnreferencedOversizedFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"apps/kustomization.yaml": "resources: [cm.yaml]\n",
		"apps/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
		"docs/diagram.png":        strings.Repeat("p", 4096),
		"apps/huge.yaml":          strings.Repeat("#", 4096),
	})
	objs, err := buildBoth(t, Options{Root: root, Path: "apps", MaxFileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != "cm" {
		t.Fatalf("got %s", toYAML(t, objs))
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"path-line-object", &Error{Path: "a.yaml", Line: 3, Object: "ConfigMap ns/x", Err: ErrInvalidYAML}, "render a.yaml:3: ConfigMap ns/x: invalid YAML"},
		{"path-only", &Error{Path: "apps", Err: ErrNotFound}, "render apps: not found"},
		{"nothing-but-cause", &Error{Err: ErrInvalidOptions}, "render invalid render options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestLineOf(t *testing.T) {
	tests := []struct {
		name, msg string
		want      int
	}{
		{"scanner-error-is-already-1-based", "yaml: line 7: mapping values are not allowed in this context", 7},
		{"parser-error-is-0-based", "yaml: line 12: did not find expected ',' or ']'", 13},
		{"parser-error-in-mapping", "yaml: line 2: did not find expected key", 3},
		{"scanner-did-not-find", "yaml: line 4: did not find expected whitespace", 4},
		{"wrapped", "invalid Kustomization: error converting YAML to JSON: yaml: line 3: did not find expected node content", 4},
		{"no-line", "yaml: unknown problem", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineOf(tt.msg); got != tt.want {
				t.Errorf("lineOf(%q) = %d, want %d", tt.msg, got, tt.want)
			}
		})
	}
}

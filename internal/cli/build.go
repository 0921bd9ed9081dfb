package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// BuildOptions configure `flotilla build --path DIR`.
type BuildOptions struct {
	// Path is the directory to render.
	Path string
	// Root is the artifact root nothing outside of which is read; empty
	// means the Git work tree Path is in; outside one, the current
	// directory when Path is in it, else Path itself.
	Root string
	// Vars are K=V substitution values; none means no substitution, as for
	// a Stack without postBuild.
	Vars []string
	// TargetNamespace, when set, is the namespace of every namespaced object.
	TargetNamespace string
	// Output is yaml (a multi-document stream) or json (a List).
	Output string
	// DecryptionKeys is the file of --decryption-keys; "" decrypts nothing.
	DecryptionKeys string
}

// NewBuildCommand returns `flotilla build` and its `stack` subcommand.
func NewBuildCommand(s Streams) *cobra.Command {
	o := &BuildOptions{Output: OutputYAML}
	cmd := &cobra.Command{
		Use:   "build --path DIR",
		Short: "Render a directory or a Stack locally, exactly as the agent would, Secrets masked",
		Long: "Render a Kustomize directory with Flotilla's render engine (the agent's: no remote bases,\n" +
			"no plugins, paths confined to the root) and print the objects. Every Secret value is\n" +
			"masked; nothing is sent to a cluster. `flotilla build stack NAME` renders a Stack of the\n" +
			"cluster from a local checkout, with the Stack's own options and substitution values.",
		Example: "  flotilla build --path apps/overlays/staging\n" +
			"  flotilla build --path apps/base/hello --var CLUSTER_REGION=eu -o json\n" +
			"  flotilla build stack apps --path ~/src/fleet",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Path, "path", o.Path, "directory to render (required)")
	f.StringVar(&o.Root, "root", o.Root, "root nothing outside of which is read; default the Git work tree of --path, else the current directory when --path is in it, else --path")
	f.StringArrayVar(&o.Vars, "var", o.Vars, "substitution value K=V (repeatable); without any, ${...} is left as written")
	f.StringVar(&o.TargetNamespace, "target-namespace", o.TargetNamespace, "namespace of every namespaced object")
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: yaml or json")
	f.StringVar(&o.DecryptionKeys, "decryption-keys", o.DecryptionKeys, decryptionKeysUsage)
	_ = cmd.MarkFlagRequired("path")
	cmd.AddCommand(newBuildStackCommand(s))
	return cmd
}

// Run renders the directory and prints the objects.
func (o *BuildOptions) Run(ctx context.Context, s Streams) error {
	if err := checkOutput(o.Output, OutputYAML, OutputJSON); err != nil {
		return err
	}
	vars, err := parseVars(o.Vars)
	if err != nil {
		return err
	}
	root, rel, err := buildRoot(o.Path, o.Root)
	if err != nil {
		return err
	}
	keys, err := loadDecryptionKeys(o.DecryptionKeys)
	if err != nil {
		return err
	}
	opts := render.Options{Root: root, Path: rel, TargetNamespace: o.TargetNamespace, Substitute: vars}
	stackspec.SetDecryption(&opts, keys)
	objs, err := render.Build(ctx, opts)
	if err != nil {
		return fmt.Errorf("%w (root %s)%s", err, root, buildHint(err))
	}
	return printObjects(s.Out, o.Output, objs, nil)
}

// buildHint is the fix, in build --path's own flags, for a render error
// whose message names the Stack's fix (the engine speaks for the agent);
// "" when there is nothing to add.
func buildHint(err error) string {
	switch {
	case errors.Is(err, decrypt.ErrNotConfigured):
		return "; with build --path, give the keys with --decryption-keys FILE"
	case errors.Is(err, render.ErrOutsideRoot):
		return "; if those files are in the same repository, pass --root with the repository root"
	case errors.Is(err, render.ErrUndefinedVariable):
		name := "NAME"
		if ve := (*render.UndefinedVariableError)(nil); errors.As(err, &ve) {
			name = ve.Name
		}
		return "; with build --path, give it with --var " + name + "=value"
	}
	return ""
}

// parseVars turns K=V pairs into substitution variables; none gives nil.
func parseVars(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	vars := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: write it as NAME=value", p)
		}
		vars[k] = v
	}
	return vars, nil
}

// buildRoot returns the absolute artifact root and dir relative to it:
// root when given, else the nearest directory above dir holding .git,
// else dir itself.
func buildRoot(dir, root string) (string, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("--path %s: not a directory", dir)
	}
	if root == "" {
		root = defaultRoot(abs)
	}
	if root, err = filepath.Abs(root); err != nil {
		return "", "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", "", fmt.Errorf("--path %s is not inside --root %s", dir, root)
	}
	return root, rel, nil
}

// defaultRoot is the root for the absolute directory dir when --root is not
// given: its Git work tree; outside one, the current directory when dir is
// in it (a copy of a repository without .git, built from its top), else
// dir itself.
func defaultRoot(dir string) string {
	if root := gitWorkTree(dir); root != "" {
		return root
	}
	cwd, err := os.Getwd()
	if err != nil {
		return dir
	}
	if rel, err := filepath.Rel(cwd, dir); err == nil && filepath.IsLocal(rel) || rel == "." {
		return cwd
	}
	return dir
}

// gitWorkTree returns the nearest directory from dir up holding .git, or
// "" when there is none.
func gitWorkTree(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// BuildStackOptions configure `flotilla build stack NAME`.
type BuildStackOptions struct {
	// Kube names the cluster and the Stack's namespace.
	Kube KubeFlags
	// Stack is the Stack's name.
	Stack string
	// Path is the local checkout of the Stack's repository; "" is the
	// current directory.
	Path string
	// Output is yaml (a multi-document stream) or json (a List).
	Output string
	// DecryptionKeys is the file of --decryption-keys; "" reads the
	// Stack's decryption Secret from the cluster.
	DecryptionKeys string
}

func newBuildStackCommand(s Streams) *cobra.Command {
	o := &BuildStackOptions{Output: OutputYAML}
	cmd := &cobra.Command{
		Use:     "stack NAME [--path REPO_ROOT]",
		Aliases: stackAliases(),
		Short:   "Render a Stack of the cluster from a local checkout, exactly as the agent would",
		Long: "Read the Stack and the ConfigMaps and Secrets of its postBuild.substituteFrom from the\n" +
			"cluster, render its spec.path of the local checkout at --path with the Stack's options,\n" +
			"and print the objects. Secret values are masked, also where they were substituted.",
		Example: "  flotilla build stack apps --path ~/src/fleet\n" +
			"  flotilla build stack apps -n team-a -o json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stack = args[0]
			return o.Run(cmd.Context(), s)
		},
	}
	o.Kube.Bind(cmd.Flags())
	_ = cmd.Flags().MarkHidden("all-namespaces")
	cmd.Flags().StringVar(&o.Path, "path", o.Path, "root of a local checkout of the Stack's repository, or the Stack's own directory in it as flux diff --path takes it (default the current directory)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: yaml or json")
	cmd.Flags().StringVar(&o.DecryptionKeys, "decryption-keys", o.DecryptionKeys, decryptionKeysUsage+" (default: the Stack's decryption Secret, read from the cluster)")
	return cmd
}

// Run reads the Stack, renders it and prints the objects.
func (o *BuildStackOptions) Run(ctx context.Context, s Streams) error {
	if err := checkOutput(o.Output, OutputYAML, OutputJSON); err != nil {
		return err
	}
	c, err := o.Kube.Client()
	if err != nil {
		return err
	}
	st, err := readStack(ctx, c, o.Kube, o.Stack)
	if err != nil {
		return err
	}
	objs, red, err := renderStack(ctx, c, st, o.Path, o.DecryptionKeys)
	if err != nil {
		return err
	}
	return printObjects(s.Out, o.Output, objs, red)
}

// printObjects writes objs, masked, as a multi-document YAML stream or as
// a JSON List.
func printObjects(w io.Writer, format string, objs []*unstructured.Unstructured, red *redact.Redactor) error {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		items = append(items, maskObject(o, red).Object)
	}
	if format == OutputJSON {
		return printData(w, OutputJSON, map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	}
	for i, item := range items {
		b, err := yaml.Marshal(item)
		if err != nil {
			return err
		}
		if i > 0 {
			b = append([]byte("---\n"), b...)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

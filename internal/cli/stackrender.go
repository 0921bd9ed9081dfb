package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// readStack reads the named Stack in the namespace the flags give.
func readStack(ctx context.Context, c client.Client, k KubeFlags, name string) (*v1alpha1.Stack, error) {
	if k.AllNamespaces {
		return nil, errors.New("a Stack is named in one namespace: use -n instead of --all-namespaces")
	}
	var st v1alpha1.Stack
	key := client.ObjectKey{Namespace: k.NamespaceOrDefault(), Name: name}
	if err := getNamed(ctx, c, v1alpha1.GroupVersion.WithKind(v1alpha1.StackKind), key, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// renderStack renders the Stack's path of the checkout at repo as the agent
// renders its artifact: same options, same variables (read from the
// cluster). The redactor knows the values read from Secrets; the error, if
// any, is already redacted.
func renderStack(ctx context.Context, c client.Reader, st *v1alpha1.Stack, repo, keysFile string) ([]*unstructured.Unstructured, *redact.Redactor, error) {
	root, path, err := stackCheckout(repo, st)
	if err != nil {
		return nil, nil, err
	}
	vars, red, err := stackspec.Variables(ctx, c, st)
	if err != nil {
		return nil, red, fmt.Errorf("variables of Stack %s/%s: %w", st.Namespace, st.Name, err)
	}
	opts := stackspec.RenderOptions(st, root, vars)
	opts.Path = path
	keys, err := stackKeys(ctx, c, st, keysFile)
	if err != nil {
		return nil, red, err
	}
	stackspec.SetDecryption(&opts, keys)
	objs, err := render.Build(ctx, opts)
	if err != nil {
		msg := fmt.Sprintf("building Stack %s/%s (path %q of %s): %s", st.Namespace, st.Name, path, root, red.Error(err))
		if errors.Is(err, render.ErrNotFound) && !isDir(filepath.Join(root, opts.Path)) {
			msg += " or --path (the root of a local checkout of the repository, or the Stack's own directory in it)"
		}
		return nil, red, &redactedError{msg: msg, err: err}
	}
	red.AddSecrets(objs...)
	return objs, red, nil
}

// redactedError carries a cause whose own message may hold a secret value:
// it prints msg, already redacted, and unwraps to the cause for errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

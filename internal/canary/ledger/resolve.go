package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// Causes a Canary's ledger cannot be resolved; branch on them with errors.Is.
var (
	// ErrNoStack means no Stack applied the Canary: it has no
	// stack.flotilla.io labels, or the Stack they name does not list it.
	ErrNoStack = errors.New("not applied by a Stack")
	// ErrNotApplied means the Stack has applied no revision yet.
	ErrNotApplied = errors.New("the Stack has not applied a revision yet")
	// ErrNoSource means the Stack's GitRepository or its Secret is missing.
	ErrNoSource = errors.New("source missing")
)

// ResolveError is a Canary whose ledger cannot be resolved. It names the
// objects and fields, never credentials.
type ResolveError struct {
	// Canary is namespace/name.
	Canary string
	// Err says what is missing; it wraps one of the Err causes.
	Err error
}

// Error implements error.
func (e *ResolveError) Error() string { return fmt.Sprintf("ledger of Canary %s: %v", e.Canary, e.Err) }

// Unwrap returns the cause.
func (e *ResolveError) Unwrap() error { return e.Err }

// Target is where a Canary's ledger is written: a repository and the
// commit the cluster runs.
type Target struct {
	Remote
	// Commit is the full hex of the commit the Stack last applied.
	Commit string
	// Revision is the Stack's last applied revision, like main@sha1:<hex>.
	Revision string
	// Stack applied the Canary; Source is its GitRepository.
	Stack, Source types.NamespacedName
}

// Resolve finds the repository and commit of obj's ledger through the
// cluster: the Stack that applied it, the revision that Stack is applying or
// last applied, and its GitRepository's URL and credentials.
func Resolve(ctx context.Context, c client.Reader, obj *v1alpha1.Canary) (*Target, error) {
	name := obj.Namespace + "/" + obj.Name
	fail := func(err error) (*Target, error) { return nil, &ResolveError{Canary: name, Err: err} }
	stack, err := stackOf(ctx, c, obj)
	if err != nil {
		return fail(err)
	}
	// A Canary sees its target change while the Stack applies: the revision
	// being applied (recorded before the apply starts) is the one that
	// started the analysis, though it is not the last applied one yet.
	t := &Target{Stack: client.ObjectKeyFromObject(stack), Revision: cmp.Or(stack.Status.LastAttemptedRevision, stack.Status.LastAppliedRevision)}
	if t.Commit = commitOf(t.Revision); t.Commit == "" {
		return fail(fmt.Errorf("%w: Stack %s has status.lastAppliedRevision %q, which names no commit", ErrNotApplied, t.Stack, t.Revision))
	}
	if stack.Spec.SourceRef.Kind != "" && stack.Spec.SourceRef.Kind != v1alpha1.GitRepositoryKind {
		return fail(fmt.Errorf("%w: Stack %s's spec.sourceRef is a %s, not a GitRepository", ErrNoSource, t.Stack, stack.Spec.SourceRef.Kind))
	}
	ns, srcName := stack.SourceKey()
	t.Source = types.NamespacedName{Namespace: ns, Name: srcName}
	src := &v1alpha1.GitRepository{}
	if err := c.Get(ctx, t.Source, src); err != nil {
		if apierrors.IsNotFound(err) {
			return fail(fmt.Errorf("%w: GitRepository %s (spec.sourceRef of Stack %s) not found", ErrNoSource, t.Source, t.Stack))
		}
		return fail(fmt.Errorf("reading GitRepository %s: %w", t.Source, err))
	}
	t.URL, t.Timeout = src.Spec.URL, src.FetchTimeout().Duration
	if src.Spec.SecretRef != nil {
		key := types.NamespacedName{Namespace: ns, Name: src.Spec.SecretRef.Name}
		var secret corev1.Secret
		if err := c.Get(ctx, key, &secret); err != nil {
			if apierrors.IsNotFound(err) {
				return fail(fmt.Errorf("%w: Secret %s (spec.secretRef of GitRepository %s) not found", ErrNoSource, key, t.Source))
			}
			return fail(fmt.Errorf("reading Secret %s: %w", key, err))
		}
		t.Credentials = git.CredentialsFromSecret(secret.Data)
	}
	return t, nil
}

// stackOf returns the Stack named by obj's owner labels, when its
// inventory lists obj (labels alone could be written by anyone).
func stackOf(ctx context.Context, c client.Reader, obj *v1alpha1.Canary) (*v1alpha1.Stack, error) {
	labels := obj.GetLabels()
	name, ns := labels[apply.OwnerNameLabel], labels[apply.OwnerNamespaceLabel]
	if name == "" {
		return nil, fmt.Errorf("%w: the Canary has no label %s (apply it with a Stack to have a ledger)", ErrNoStack, apply.OwnerNameLabel)
	}
	if ns == "" {
		ns = obj.Namespace
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	stack := &v1alpha1.Stack{}
	if err := c.Get(ctx, key, stack); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: Stack %s (label %s) not found", ErrNoStack, key, apply.OwnerNameLabel)
		}
		return nil, fmt.Errorf("reading Stack %s: %w", key, err)
	}
	owns := slices.ContainsFunc(stack.Status.Inventory, func(e v1alpha1.InventoryEntry) bool {
		return e.Group == v1alpha1.GroupVersion.Group && e.Kind == v1alpha1.CanaryKind && e.Namespace == obj.Namespace && e.Name == obj.Name
	})
	if !owns && stack.Status.LastAppliedRevision == "" {
		return nil, fmt.Errorf("%w: Stack %s has not applied yet", ErrNotApplied, key)
	}
	if !owns {
		return nil, fmt.Errorf("%w: Stack %s does not list the Canary in its status.inventory", ErrNoStack, key)
	}
	return stack, nil
}

// commitOf returns the commit of a revision like main@sha1:<hex> or
// sha1:<hex>, "" when it names none.
func commitOf(revision string) string {
	i := strings.LastIndex(revision, "sha1:")
	if i < 0 || (i > 0 && revision[i-1] != '@') {
		return ""
	}
	if c := revision[i+len("sha1:"):]; len(c) == 40 && isHex(c) {
		return c
	}
	return ""
}

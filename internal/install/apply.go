package install

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// Apply applies objs with server-side apply under the agent's field manager:
// the CustomResourceDefinitions first, waiting until they are Established,
// then the rest, each set validated by a server-side dry-run first.
// progress, when not nil, hears what is under way.
//
// Owner labels decide who manages each object from Git. An object that
// carries a Stack's owner labels (see SetOwner) is refused when another
// Stack owns it; an object without them keeps the owner labels it has in
// the cluster, so re-running install does not take an object away from the
// Stack that adopted it. The ChangeSet says what was created, configured or
// left unchanged.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, progress func(string)) (apply.ChangeSet, error) {
	if progress == nil {
		progress = func(string) {}
	}
	objs, err := withOwners(ctx, c, objs)
	if err != nil {
		return apply.ChangeSet{}, err
	}
	mgr := apply.NewManager(c, apply.DefaultOptions())
	crds, rest := splitCRDs(objs)
	var cs apply.ChangeSet
	if len(crds) > 0 {
		progress(fmt.Sprintf("applying %d CustomResourceDefinitions, waiting until they are Established", len(crds)))
		done, err := mgr.Apply(ctx, crds)
		cs.Append(done)
		if err != nil {
			return cs, fmt.Errorf("applying the CRDs: %w", err)
		}
	}
	if len(rest) > 0 {
		progress(fmt.Sprintf("applying %d %s", len(rest), plural(len(rest), "object", "objects")))
		done, err := mgr.Apply(ctx, rest)
		cs.Append(done)
		if err != nil {
			return cs, err
		}
	}
	return cs, nil
}

// SetOwner labels objs as applied by the Stack namespace/name, as the
// Stack's own apply would.
func SetOwner(objs []*unstructured.Unstructured, name, namespace string) {
	for _, u := range objs {
		l := u.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[apply.OwnerNameLabel], l[apply.OwnerNamespaceLabel] = name, namespace
		u.SetLabels(l)
	}
}

// withOwners returns copies of objs whose owner labels agree with the
// cluster: kept when the live object has none or the same, copied from the
// live object when the desired one has none, an error when they differ.
// Every object another Stack owns is reported, not only the first, so one
// run shows all the claims to remove.
func withOwners(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	var refused []error
	for _, o := range objs {
		d := o.DeepCopy()
		live := apply.MetadataOf(d).Unstructured()
		err := c.Get(ctx, client.ObjectKeyFromObject(live), live)
		switch {
		case apierrors.IsNotFound(err) || isNoKind(err):
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", apply.MetadataOf(d), err)
		default:
			if err := mergeOwner(d, live); err != nil {
				refused = append(refused, err)
			}
		}
		out = append(out, d)
	}
	if len(refused) > 0 {
		return nil, &OwnedElsewhereError{Objects: refused}
	}
	return out, nil
}

// maxListed is how many refused objects an OwnedElsewhereError lists;
// the others are counted.
const maxListed = 10

// OwnedElsewhereError lists the objects install refused to take over from
// another Stack. errors.Is finds apply.ErrOwnedElsewhere in it.
type OwnedElsewhereError struct {
	// Objects holds one error per refused object, naming its kind,
	// namespace and name and the Stack that owns it.
	Objects []error
}

func (e *OwnedElsewhereError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s managed by another Stack:", len(e.Objects), plural(len(e.Objects), "object is", "objects are"))
	for i, err := range e.Objects {
		if i == maxListed {
			fmt.Fprintf(&b, "\n- and %d more", len(e.Objects)-maxListed)
			break
		}
		b.WriteString("\n- " + err.Error())
	}
	return b.String()
}

// Unwrap returns the error of each refused object.
func (e *OwnedElsewhereError) Unwrap() []error { return e.Objects }

func mergeOwner(desired, live *unstructured.Unstructured) error {
	want, have := ownerOf(desired), ownerOf(live)
	switch {
	case have == "" || want == have:
		return nil
	case want == "":
		l := desired.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		ll := live.GetLabels()
		l[apply.OwnerNameLabel], l[apply.OwnerNamespaceLabel] = ll[apply.OwnerNameLabel], ll[apply.OwnerNamespaceLabel]
		desired.SetLabels(l)
		return nil
	default:
		return fmt.Errorf("%s is managed by the Stack %s, not %s: %w; remove that Stack's claim (its labels %s and %s) or bootstrap into the namespace of that Stack",
			apply.MetadataOf(desired), have, want, apply.ErrOwnedElsewhere, apply.OwnerNameLabel, apply.OwnerNamespaceLabel)
	}
}

// ownerOf returns "namespace/name" of the Stack that owns u, or "".
func ownerOf(u *unstructured.Unstructured) string {
	l := u.GetLabels()
	if l[apply.OwnerNameLabel] == "" {
		return ""
	}
	return l[apply.OwnerNamespaceLabel] + "/" + l[apply.OwnerNameLabel]
}

func splitCRDs(objs []*unstructured.Unstructured) (crds, rest []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && o.GroupVersionKind().Group == "apiextensions.k8s.io" {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	return crds, rest
}

// WaitAgent waits until the agent's Deployment in namespace is Available.
func WaitAgent(ctx context.Context, c client.Client, namespace string, timeout time.Duration) error {
	dep := apply.ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: namespace, Name: AgentName}
	if err := apply.NewManager(c, apply.DefaultOptions()).Wait(ctx, []apply.ObjMetadata{dep}, timeout); err != nil {
		return fmt.Errorf("the agent did not become available (see `kubectl -n %s describe deployment %s`): %w", namespace, AgentName, err)
	}
	return nil
}

// isNoKind reports a kind the API server does not serve (yet): its CRD is
// part of the set.
func isNoKind(err error) bool { return meta.IsNoMatchError(err) }

// plural picks the form of a noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

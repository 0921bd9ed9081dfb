package stackspec

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
)

// RenderOptions maps the Stack's spec onto the render engine, for the
// artifact unpacked at root and the variables vars (nil: no substitution).
func RenderOptions(obj *v1alpha1.Stack, root string, vars map[string]string) render.Options {
	opts := render.Options{Root: root, Path: obj.Spec.Path, TargetNamespace: obj.Spec.TargetNamespace, Substitute: vars}
	if cm := obj.Spec.CommonMetadata; cm != nil {
		opts.CommonLabels, opts.CommonAnnotations = cm.Labels, cm.Annotations
	}
	for _, p := range obj.Spec.Patches {
		rp := render.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			rp.Target = &render.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name,
				Namespace: t.Namespace, LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
		}
		opts.Patches = append(opts.Patches, rp)
	}
	for _, i := range obj.Spec.Images {
		opts.Images = append(opts.Images, render.Image{Name: i.Name, NewName: i.NewName, NewTag: i.NewTag, Digest: i.Digest})
	}
	return opts
}

// VariablesError is a substituteFrom reference that could not be read.
type VariablesError struct {
	// Ref is the reference from spec.postBuild.substituteFrom.
	Ref v1alpha1.SubstituteReference
	// Namespace is the Stack's namespace, where the object is looked up.
	Namespace string
	// Err is the API server's error.
	Err error
}

// Error names the reference and what to do.
func (e *VariablesError) Error() string {
	return fmt.Sprintf("postBuild.substituteFrom %s %s/%s: %s (create it, or mark the reference optional)",
		e.Ref.Kind, e.Namespace, e.Ref.Name, ReasonText(e.Err))
}

// Unwrap returns the API server's error.
func (e *VariablesError) Unwrap() error { return e.Err }

// Variables gathers the Stack's postBuild substitution values, reading its
// substituteFrom ConfigMaps and Secrets through r; inline values win. Values
// read from Secrets are registered with the returned redactor, which the
// caller passes every message through. No postBuild means nil variables
// (no substitution at all). A missing optional reference is skipped; any
// other failure is a *VariablesError.
func Variables(ctx context.Context, r client.Reader, obj *v1alpha1.Stack) (map[string]string, *redact.Redactor, error) {
	red := redact.New()
	pb := obj.Spec.PostBuild
	if pb == nil {
		return nil, red, nil
	}
	vars := map[string]string{}
	for _, ref := range pb.SubstituteFrom {
		data, err := readVariables(ctx, r, obj.Namespace, ref)
		if apierrors.IsNotFound(err) && ref.Optional {
			continue
		}
		if err != nil {
			return nil, red, &VariablesError{Ref: ref, Namespace: obj.Namespace, Err: err}
		}
		for k, v := range data {
			if ref.Kind == "Secret" {
				red.Add(v)
			}
			vars[k] = v
		}
	}
	for k, v := range pb.Substitute {
		vars[k] = v
	}
	return vars, red, nil
}

func readVariables(ctx context.Context, r client.Reader, ns string, ref v1alpha1.SubstituteReference) (map[string]string, error) {
	key := client.ObjectKey{Namespace: ns, Name: ref.Name}
	if ref.Kind == "Secret" {
		var s corev1.Secret
		if err := r.Get(ctx, key, &s); err != nil {
			return nil, err
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	var cm corev1.ConfigMap
	if err := r.Get(ctx, key, &cm); err != nil {
		return nil, err
	}
	return cm.Data, nil
}

// ReasonText is a short cause for an API error: "not found" for NotFound,
// the error otherwise.
func ReasonText(err error) string {
	if apierrors.IsNotFound(err) {
		return "not found"
	}
	return err.Error()
}

// FromInventory converts status inventory entries to apply identities.
func FromInventory(entries []v1alpha1.InventoryEntry) []apply.ObjMetadata {
	out := make([]apply.ObjMetadata, 0, len(entries))
	for _, e := range entries {
		out = append(out, apply.ObjMetadata{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name})
	}
	return out
}

// ToInventory converts apply identities to inventory entries, sorted by
// group, kind, namespace and name so the status does not churn.
func ToInventory(objs []apply.ObjMetadata) []v1alpha1.InventoryEntry {
	out := make([]v1alpha1.InventoryEntry, 0, len(objs))
	for _, o := range objs {
		out = append(out, v1alpha1.InventoryEntry{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
	}
	sort.Slice(out, func(i, j int) bool { return inventoryKey(out[i]) < inventoryKey(out[j]) })
	return out
}

func inventoryKey(e v1alpha1.InventoryEntry) string {
	return strings.Join([]string{e.Group, e.Kind, e.Namespace, e.Name}, "/")
}

package controlplane

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

// OwnedConfigMaps returns the UID of each ConfigMap in ns that carries the
// owner label of Stack stack, by name: what the Stack wrote, whether its
// inventory lists it or not.
func OwnedConfigMaps(ctx context.Context, c client.Client, ns, stack string) (map[string]types.UID, error) {
	var list corev1.ConfigMapList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{apply.OwnerNameLabel: stack}); err != nil {
		return nil, err
	}
	out := make(map[string]types.UID, len(list.Items))
	for _, cm := range list.Items {
		out[cm.Name] = cm.UID
	}
	return out, nil
}

// InventoryNames returns the sorted names of the inventory entries of kind.
func InventoryNames(s *v1alpha1.Stack, kind string) []string {
	var out []string
	for _, e := range s.Status.Inventory {
		if e.Kind == kind {
			out = append(out, e.Name)
		}
	}
	slices.Sort(out)
	return out
}

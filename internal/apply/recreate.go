package apply

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// neverRecreated lists the kinds that force never deletes to create again,
// and why: deleting one destroys more than the object itself.
var neverRecreated = map[schema.GroupKind]string{
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: "deleting a CRD deletes every object of its kind",
	{Group: "", Kind: "PersistentVolumeClaim"}:                        "deleting a claim can delete its volume and the data on it",
	{Group: "", Kind: "PersistentVolume"}:                             "deleting a volume can delete the data on it",
	{Group: "", Kind: "Namespace"}:                                    "deleting a namespace deletes everything in it",
}

// recreateRefused returns the immutable change, saying why force does not
// apply, when gk is never recreated; otherwise nil.
func recreateRefused(gk schema.GroupKind, immutable *ImmutableError) error {
	why, ok := neverRecreated[gk]
	if !ok {
		return nil
	}
	immutable.NotRecreated = "force does not recreate a " + gk.Kind + ": " + why
	return immutable
}

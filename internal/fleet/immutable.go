package fleet

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// immutableRule lists the fields of a kind that the API server refuses to
// change: applying a change to one fails unless the Stack sets force, which
// deletes and recreates the object.
type immutableRule struct {
	// paths are field paths as FieldChange reports them; a change at or
	// below one of them is immutable.
	paths []string
	// whenMarked limits the rule to objects with immutable: true
	// (ConfigMaps and Secrets).
	whenMarked bool
}

// immutableFields is the table of known immutable fields, per kind.
var immutableFields = map[schema.GroupKind]immutableRule{
	{Group: "apps", Kind: "Deployment"}:                               {paths: []string{"spec.selector"}},
	{Group: "apps", Kind: "ReplicaSet"}:                               {paths: []string{"spec.selector"}},
	{Group: "apps", Kind: "DaemonSet"}:                                {paths: []string{"spec.selector"}},
	{Group: "apps", Kind: "StatefulSet"}:                              {paths: []string{"spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"}},
	{Group: "batch", Kind: "Job"}:                                     {paths: []string{"spec.selector", "spec.template", "spec.completionMode"}},
	{Kind: "Service"}:                                                 {paths: []string{"spec.clusterIP", "spec.clusterIPs"}},
	{Kind: "PersistentVolumeClaim"}:                                   {paths: []string{"spec.storageClassName", "spec.accessModes", "spec.volumeName", "spec.volumeMode", "spec.selector", "spec.dataSource"}},
	{Kind: "PersistentVolume"}:                                        {paths: []string{"spec.volumeMode", "spec.csi", "spec.nfs", "spec.hostPath", "spec.local"}},
	{Kind: "ConfigMap"}:                                               {paths: []string{"data", "binaryData"}, whenMarked: true},
	{Kind: "Secret"}:                                                  {paths: []string{"data", "stringData", "type"}, whenMarked: true},
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                   {paths: []string{"provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"}},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:         {paths: []string{"roleRef"}},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:  {paths: []string{"roleRef"}},
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: {paths: []string{"spec.group", "spec.names.plural", "spec.scope"}},
}

// immutableChanges returns the changed fields of an object that its kind
// does not allow to change.
func immutableChanges(before *unstructured.Unstructured, ch ObjectChange) []string {
	rule, ok := immutableFields[schema.GroupKind{Group: ch.Object.Group, Kind: ch.Object.Kind}]
	if !ok {
		return nil
	}
	if rule.whenMarked {
		if marked, _, _ := unstructured.NestedBool(before.Object, "immutable"); !marked {
			return nil
		}
	}
	var out []string
	for _, f := range ch.Fields {
		for _, p := range rule.paths {
			if underPath(f.Path, p) {
				out = append(out, f.Path)
				break
			}
		}
	}
	return out
}

// underPath says whether field is p or below it.
func underPath(field, p string) bool {
	if !strings.HasPrefix(field, p) {
		return false
	}
	rest := field[len(p):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

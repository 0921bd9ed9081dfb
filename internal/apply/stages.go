package apply

// Stage orders objects: lower stages are applied first and pruned last.
type Stage int

// The stages, in apply order.
const (
	// StageDefinitions holds CRDs: everything else may be an instance of one.
	StageDefinitions Stage = iota
	// StageClusterScope holds Namespaces and cluster-wide RBAC and policy.
	StageClusterScope
	// StageResources holds everything else.
	StageResources
)

// stageByKind is the per-kind ordering table; kinds not listed are resources.
var stageByKind = map[string]Stage{
	"apiextensions.k8s.io/CustomResourceDefinition": StageDefinitions,
	"/Namespace":                                   StageClusterScope,
	"rbac.authorization.k8s.io/ClusterRole":        StageClusterScope,
	"rbac.authorization.k8s.io/ClusterRoleBinding": StageClusterScope,
	"scheduling.k8s.io/PriorityClass":              StageClusterScope,
	"storage.k8s.io/StorageClass":                  StageClusterScope,
}

// StageOf returns the stage of an object.
func StageOf(m ObjMetadata) Stage {
	if s, ok := stageByKind[m.Group+"/"+m.Kind]; ok {
		return s
	}
	return StageResources
}

// pruneRank orders deletions: namespaced objects first, then other
// cluster-scoped objects, then Namespaces, CRDs last.
func pruneRank(m ObjMetadata) int {
	switch {
	case m.Group == "apiextensions.k8s.io" && m.Kind == "CustomResourceDefinition":
		return 3
	case m.Group == "" && m.Kind == "Namespace":
		return 2
	case m.Namespace == "":
		return 1
	default:
		return 0
	}
}

package apply

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	crdObj         = ObjMetadata{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"}
	namespaceObj   = ObjMetadata{Version: "v1", Kind: "Namespace", Name: "web"}
	clusterRoleObj = ObjMetadata{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "reader"}
	bindingObj     = ObjMetadata{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Name: "reader"}
	priorityObj    = ObjMetadata{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass", Name: "high"}
	storageObj     = ObjMetadata{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass", Name: "fast"}
	webhookObj     = ObjMetadata{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration", Name: "policy"}
	configMapObj   = ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	deploymentObj  = ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web"}
	widgetObj      = ObjMetadata{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "web", Name: "small"}
	roleObj        = ObjMetadata{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Namespace: "web", Name: "reader"}
)

func TestStageOf(t *testing.T) {
	tests := []struct {
		obj  ObjMetadata
		want Stage
	}{
		{crdObj, StageDefinitions},
		{namespaceObj, StageClusterScope},
		{clusterRoleObj, StageClusterScope},
		{bindingObj, StageClusterScope},
		{priorityObj, StageClusterScope},
		{storageObj, StageClusterScope},
		{webhookObj, StageResources},
		{configMapObj, StageResources},
		{deploymentObj, StageResources},
		{widgetObj, StageResources},
		{roleObj, StageResources},
		// A kind of the same name in another group is not the core one.
		{ObjMetadata{Group: "example.com", Version: "v1", Kind: "Namespace", Name: "x"}, StageResources},
		{ObjMetadata{Group: "example.com", Version: "v1", Kind: "CustomResourceDefinition", Name: "x"}, StageResources},
	}
	for _, tt := range tests {
		t.Run(tt.obj.Key(), func(t *testing.T) {
			if got := StageOf(tt.obj); got != tt.want {
				t.Errorf("StageOf(%s) = %d, want %d", tt.obj, got, tt.want)
			}
		})
	}
}

func TestPruneRankDeletesInReverseApplyOrder(t *testing.T) {
	objs := []ObjMetadata{crdObj, namespaceObj, clusterRoleObj, webhookObj, configMapObj, deploymentObj, widgetObj, roleObj}
	for range 20 {
		shuffled := append([]ObjMetadata(nil), objs...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		sort.SliceStable(shuffled, func(i, j int) bool { return pruneRank(shuffled[i]) < pruneRank(shuffled[j]) })

		last := shuffled[len(shuffled)-2:]
		if diff := cmp.Diff([]ObjMetadata{namespaceObj, crdObj}, last); diff != "" {
			t.Fatalf("the last deletions (-want +got):\n%s", diff)
		}
		for i, o := range shuffled {
			if o.Namespace == "" && i < 4 {
				t.Fatalf("cluster-scoped %s deleted before a namespaced object: %v", o, shuffled)
			}
		}
	}
}

func TestSortChangesOrdersByStageThenName(t *testing.T) {
	cs := ChangeSet{}
	for _, o := range []ObjMetadata{deploymentObj, widgetObj, namespaceObj, configMapObj, crdObj, clusterRoleObj} {
		cs.Add(o, Created, "")
	}

	sortChanges(&cs)

	var got []string
	for _, c := range cs.Changes {
		got = append(got, c.Object.String())
	}
	want := []string{
		"CustomResourceDefinition/widgets.example.com",
		"ClusterRole/reader",
		"Namespace/web",
		"ConfigMap/web/settings",
		"Deployment/web/web",
		"Widget/web/small",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

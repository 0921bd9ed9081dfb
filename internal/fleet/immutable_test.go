package fleet

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImmutableFieldsOfEveryKind: one field the API server refuses to
// change, and one it allows, for each kind of the table not covered by
// TestImmutableFieldsTable.
func TestImmutableFieldsOfEveryKind(t *testing.T) {
	for _, tc := range []struct {
		group, kind        string
		immutable, mutable string
	}{
		{"apps", "ReplicaSet", "spec.selector.matchLabels.app", "spec.replicas"},
		{"apps", "DaemonSet", "spec.selector", "spec.template.spec.containers[name=a].image"},
		{"apps", "StatefulSet", "spec.serviceName", "spec.replicas"},
		{"apps", "StatefulSet", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", "spec.updateStrategy.type"},
		{"apps", "StatefulSet", "spec.podManagementPolicy", "spec.minReadySeconds"},
		{"batch", "Job", "spec.completionMode", "spec.suspend"},
		{"", "Service", "spec.clusterIPs[0]", "spec.ports[name=http].port"},
		{"", "PersistentVolumeClaim", "spec.accessModes[0]", "spec.resources.requests.storage"},
		{"", "PersistentVolume", "spec.csi.volumeHandle", "spec.capacity.storage"},
		{"storage.k8s.io", "StorageClass", "parameters.type", "allowVolumeExpansion"},
		{"rbac.authorization.k8s.io", "RoleBinding", "roleRef.name", "subjects[0].name"},
		{"rbac.authorization.k8s.io", "ClusterRoleBinding", "roleRef.kind", "subjects[0].name"},
		{"apiextensions.k8s.io", "CustomResourceDefinition", "spec.scope", "spec.versions[0].served"},
		{"apiextensions.k8s.io", "CustomResourceDefinition", "spec.names.plural", "spec.names.shortNames[0]"},
	} {
		t.Run(tc.kind+" "+tc.immutable, func(t *testing.T) {
			ch := ObjectChange{Object: ObjectRef{Group: tc.group, Kind: tc.kind}, Fields: []FieldChange{{Path: tc.immutable}, {Path: tc.mutable}}}
			if diff := cmp.Diff([]string{tc.immutable}, immutableChanges(obj(t, "kind: "+tc.kind), ch)); diff != "" {
				t.Errorf("immutable fields (-want +got):\n%s", diff)
			}
		})
	}
}

// A kind of the same name in another group has none of the core kind's rules.
func TestImmutableFieldsNeedTheGroup(t *testing.T) {
	ch := ObjectChange{Object: ObjectRef{Group: "example.com", Kind: "Service"}, Fields: []FieldChange{{Path: "spec.clusterIP"}}}
	if got := immutableChanges(obj(t, "kind: Service"), ch); got != nil {
		t.Errorf("a Service of example.com has immutable fields %v", got)
	}
	ch = ObjectChange{Object: ObjectRef{Kind: "Deployment"}, Fields: []FieldChange{{Path: "spec.selector"}}}
	if got := immutableChanges(obj(t, "kind: Deployment"), ch); got != nil {
		t.Errorf("a core-group Deployment has immutable fields %v", got)
	}
}

func TestMarkdownSectionOfStacksWithoutObjects(t *testing.T) {
	res := resultWith(
		StackPlan{Name: "charts", Path: "charts", Status: StackNotPlanned, Reason: "its source is another"},
		StackPlan{Name: "apps", Path: "apps", Status: StackFailed, Reason: "resource x.yaml not found"},
	)
	var b bytes.Buffer
	if err := WriteMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"<details><summary>c000: 0 added, 0 changed, 0 removed</summary>\n\n**charts (charts): not planned, its source is another**\n\n</details>\n",
		"**apps (apps): does not render**\n\n</details>\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "```") {
		t.Errorf("a Stack without objects got an empty diff block:\n%s", out)
	}
}

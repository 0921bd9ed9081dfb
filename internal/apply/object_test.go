package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestMetadataOf(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		kind       string
		namespace  string
		want       ObjMetadata
		wantString string
		wantKey    string
	}{
		{
			name:       "core namespaced object",
			apiVersion: "v1", kind: "ConfigMap", namespace: "web",
			want:       ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "obj"},
			wantString: "ConfigMap/web/obj",
			wantKey:    "/ConfigMap/web/obj",
		},
		{
			name:       "grouped namespaced object",
			apiVersion: "apps/v1", kind: "Deployment", namespace: "web",
			want:       ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "obj"},
			wantString: "Deployment/web/obj",
			wantKey:    "apps/Deployment/web/obj",
		},
		{
			name:       "cluster-scoped object",
			apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
			want:       ObjMetadata{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "obj"},
			wantString: "CustomResourceDefinition/obj",
			wantKey:    "apiextensions.k8s.io/CustomResourceDefinition//obj",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(tt.apiVersion)
			u.SetKind(tt.kind)
			u.SetNamespace(tt.namespace)
			u.SetName("obj")

			got := MetadataOf(u)

			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MetadataOf (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.wantString {
				t.Errorf("String() = %q, want %q", s, tt.wantString)
			}
			if k := got.Key(); k != tt.wantKey {
				t.Errorf("Key() = %q, want %q", k, tt.wantKey)
			}
			if gk := got.GroupKind(); gk != (schema.GroupKind{Group: tt.want.Group, Kind: tt.kind}) {
				t.Errorf("GroupKind() = %v", gk)
			}
			if gvk := got.GroupVersionKind(); gvk != u.GroupVersionKind() {
				t.Errorf("GroupVersionKind() = %v, want %v", gvk, u.GroupVersionKind())
			}
			if back := MetadataOf(got.Unstructured()); back != got {
				t.Errorf("MetadataOf(Unstructured()) = %v, want %v", back, got)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	cm := ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	deploy := ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web"}
	ns := ObjMetadata{Version: "v1", Kind: "Namespace", Name: "web"}
	with := func(m ObjMetadata, change func(*ObjMetadata)) ObjMetadata {
		change(&m)
		return m
	}
	tests := []struct {
		name         string
		old, current []ObjMetadata
		want         []ObjMetadata
	}{
		{name: "nothing applied before", current: []ObjMetadata{cm}},
		{name: "nothing left", old: []ObjMetadata{cm, ns}, want: []ObjMetadata{cm, ns}},
		{name: "same set", old: []ObjMetadata{cm, deploy, ns}, current: []ObjMetadata{ns, deploy, cm}},
		{name: "one removed", old: []ObjMetadata{cm, deploy, ns}, current: []ObjMetadata{ns, cm}, want: []ObjMetadata{deploy}},
		{
			name:    "a new API version is the same object",
			old:     []ObjMetadata{with(deploy, func(m *ObjMetadata) { m.Version = "v1beta1" })},
			current: []ObjMetadata{deploy},
		},
		{
			name:    "moved to another namespace",
			old:     []ObjMetadata{cm},
			current: []ObjMetadata{with(cm, func(m *ObjMetadata) { m.Namespace = "api" })},
			want:    []ObjMetadata{cm},
		},
		{
			name:    "same name and kind in another group",
			old:     []ObjMetadata{deploy},
			current: []ObjMetadata{with(deploy, func(m *ObjMetadata) { m.Group = "extensions" })},
			want:    []ObjMetadata{deploy},
		},
		{
			name:    "renamed",
			old:     []ObjMetadata{cm},
			current: []ObjMetadata{with(cm, func(m *ObjMetadata) { m.Name = "settings-v2" })},
			want:    []ObjMetadata{cm},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Diff(tt.old, tt.current)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

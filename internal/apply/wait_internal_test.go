package apply

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestHealthErrorMessage(t *testing.T) {
	err := &HealthError{Timeout: 90 * time.Second, NotReady: []NotReady{
		{Object: ObjMetadata{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}, Status: "InProgress", Message: "Replicas: 0/1"},
		{Object: ObjMetadata{Kind: "ConfigMap", Namespace: "web", Name: "gone"}, Status: "NotFound"},
	}}

	want := "2 object(s) not ready after 1m30s: ConfigMap/web/gone (NotFound); Deployment/web/web (InProgress: Replicas: 0/1)"
	if got := err.Error(); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
}

func TestReady(t *testing.T) {
	deployment := &unstructured.Unstructured{}
	deployment.SetAPIVersion("apps/v1")
	deployment.SetKind("Deployment")
	deployment.SetName("web")
	deployment.SetGeneration(1)
	deployment.Object["spec"] = map[string]any{"replicas": int64(1)}

	if !Ready(configMap(nil)) {
		t.Error("a ConfigMap is not ready")
	}
	if Ready(deployment) {
		t.Error("a Deployment without a status is ready")
	}
}

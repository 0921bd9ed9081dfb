package localnode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// pushApp builds examples/app at version and pushes it to the node's
// registry; it returns the image reference.
func pushApp(t *testing.T, c *localnode.Cluster, version string) string {
	t.Helper()
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "app")
	if err := ociimage.BuildGo(ctx, controlplane.ModuleRoot(), "./examples/app", bin, "-s -w -X main.version="+version, "linux", runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.AppImage(bin, ociimage.BuildInfo{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	ref := c.Registry.Host + "/app:" + version
	if _, err := c.Push(ctx, img, ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// appDeployment runs two Pods of the example app's image, ready when its
// /readyz says so.
func appDeployment(name, image string) *appsv1.Deployment {
	dep := deployment(name, "app", image)
	c := &dep.Spec.Template.Spec.Containers[0]
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
		PeriodSeconds: 1,
	}
	return dep
}

// TestNodeServesAWorkloadFromTheRegistry pulls an image from the node's
// registry (TLS from the test ground's CA, basic auth), runs it behind a
// readiness probe, routes a Service to it through kube-proxy, resolves the
// Service by name from a Pod through the cluster DNS, and reads logs and
// runs exec through the kubelet.
func TestNodeServesAWorkloadFromTheRegistry(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	image := pushApp(t, c, "v1.2.3")
	dep := appDeployment("web", image)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: dep.Spec.Selector.MatchLabels,
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
	for _, obj := range []client.Object{dep, svc} {
		if err := c.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitAvailable(t, c, dep)

	t.Run("a Service answers from the host through kube-proxy", func(t *testing.T) {
		body := httpGet(t, fmt.Sprintf("http://%s/version", svc.Spec.ClusterIP))
		var v struct{ Version string }
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.Version != "v1.2.3" {
			t.Errorf("GET /version = %q (%v), want version v1.2.3", body, err)
		}
	})
	pod := firstPod(t, c, dep)
	t.Run("a Pod names the Service through the cluster DNS", func(t *testing.T) {
		for _, host := range []string{"web", "web.default.svc." + localnode.ClusterDomain} {
			out, _, err := c.Exec(ctx, "default", pod, "app", "/app", "get", "http://"+host+"/version")
			if err != nil || !strings.Contains(out, "v1.2.3") {
				t.Errorf("exec app get http://%s/version: %q, %v", host, out, err)
			}
		}
	})
	t.Run("logs come from the kubelet", func(t *testing.T) {
		logs, err := c.Logs(ctx, "default", pod, "app")
		if err != nil || !strings.Contains(logs, "listening") {
			t.Errorf("logs of %s: %q, %v", pod, logs, err)
		}
	})
}

// TestNodeReportsAnImageThatDoesNotExist: the registry answers, the tag is
// not there, and the Pod says so.
func TestNodeReportsAnImageThatDoesNotExist(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	dep := appDeployment("missing", c.Registry.Host+"/app:does-not-exist")
	if err := c.Client.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a Pod waiting with ErrImagePull or ImagePullBackOff", func() (bool, string) {
		report := podReport(c, "default")
		return strings.Contains(report, "ErrImagePull") || strings.Contains(report, "ImagePullBackOff"), report
	})
}

func firstPod(t *testing.T, c *localnode.Cluster, dep *appsv1.Deployment) string {
	t.Helper()
	var pods corev1.PodList
	if err := c.Client.List(context.Background(), &pods, client.InNamespace(dep.Namespace), client.MatchingLabels(dep.Spec.Selector.MatchLabels)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) == 0 {
		t.Fatalf("no pods of %s", dep.Name)
	}
	return pods.Items[0].Name
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	var body string
	eventually(t, "GET "+url, func() (bool, string) {
		resp, err := hc.Get(url)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		body = string(data)
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return body
}

// eventually polls cond every 250 ms for up to two minutes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

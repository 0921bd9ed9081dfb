package gatewayapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/metrics"
	"github.com/flotilla-io/flotilla/internal/canary/router"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gatewayapi"
)

const ns = "shop"

// TestTraefikSplitsTrafficByTheRoutersWeights runs the example app in two
// versions on the real node, Traefik outside the cluster as the Gateway
// API implementation, and the gatewayapi router's HTTPRoute: at 80/20 the
// requests through Traefik's entrypoint split close to 80/20, at 0/100
// they all reach v2, Traefik's metrics name the canary's service in the
// form the built-in queries select, and with analysis.match (A/B) only the
// matching requests reach v2.
func TestTraefikSplitsTrafficByTheRoutersWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts a real node and Traefik (run `make test`)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cluster, c := startNode(ctx, t)
	deployApp(ctx, t, cluster, c)
	traefik, err := gatewayapi.Start(ctx, gatewayapi.Options{Kubeconfig: cluster.Kubeconfig, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = traefik.Stop() })
	gw := traefik.Gateway(ns, "public", "traefik")
	for _, obj := range []client.Object{gatewayapi.GatewayClass("traefik"), gw} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := gatewayapi.WaitProgrammed(ctx, c, client.ObjectKeyFromObject(gw), time.Minute); err != nil {
		t.Fatalf("%v; traefik's log: %s", err, traefik.LogFile)
	}

	cn := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1alpha1.CanarySpec{
			Provider:  v1alpha1.RouterGatewayAPI,
			TargetRef: v1alpha1.CanaryTargetRef{Name: "app"},
			Service:   v1alpha1.CanaryService{Port: 80, GatewayRefs: []v1alpha1.GatewayRef{{Name: "public"}}},
		},
	}
	if err := c.Create(ctx, cn); err != nil {
		t.Fatal(err)
	}
	r := router.NewGatewayAPI(c)
	if err := r.Reconcile(ctx, cn); err != nil {
		t.Fatal(err)
	}
	waitRouteAccepted(ctx, t, c, traefik)

	t.Run("at 80/20 about a fifth of the requests reach the canary", func(t *testing.T) {
		setWeights(ctx, t, r, cn, traefik, 80, 20)
		got := send(ctx, t, traefik, 500, nil)
		t.Logf("versions of 500 responses at 80/20: %v", got)
		if share := got["v2"] * 100 / 500; share < 12 || share > 28 || got["v1"]+got["v2"] != 500 {
			t.Errorf("versions of 500 responses = %v: want about 20%% v2 (12-28%%), all from v1 or v2", got)
		}
		testCanaryServiceLabel(ctx, t, traefik, got["v2"])
	})
	t.Run("at 0/100 every request reaches the canary", func(t *testing.T) {
		setWeights(ctx, t, r, cn, traefik, 0, 100)
		if got := send(ctx, t, traefik, 200, nil); got["v2"] != 200 {
			t.Errorf("versions of 200 responses = %v, want all v2", got)
		}
	})
	t.Run("with analysis.match only matching requests reach the canary", func(t *testing.T) {
		cn.Spec.Analysis.Match = []v1alpha1.HTTPMatch{{Headers: []v1alpha1.HTTPHeaderMatch{{Name: "x-canary", Value: "insider"}}}}
		if err := c.Update(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		poll(ctx, t, "Traefik routing requests without the header to the primary", func(ctx context.Context) (bool, error) {
			v, err := version(ctx, traefik, nil)
			return err == nil && v == "v1", nil
		})
		insider := http.Header{"X-Canary": {"insider"}}
		if got := send(ctx, t, traefik, 100, insider); got["v2"] != 100 {
			t.Errorf("versions of 100 responses with x-canary: insider = %v, want all v2", got)
		}
		if got := send(ctx, t, traefik, 100, nil); got["v1"] != 100 {
			t.Errorf("versions of 100 responses without the header = %v, want all v1", got)
		}
	})
}

// testCanaryServiceLabel checks Traefik's metrics: exactly one service
// label matches the built-in queries' regular expression for the canary,
// it has the form Traefik gives a backendRef of rule 0 of the route on
// Gateway public's entrypoint web, it counts at least the requests that
// reached v2, and the duration histogram has it too.
func testCanaryServiceLabel(ctx context.Context, t *testing.T, traefik *gatewayapi.Traefik, v2 int) {
	t.Helper()
	services, err := traefik.ServiceRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	durations, err := traefik.ServiceLabels(ctx, gatewayapi.ServiceDurationMetric)
	if err != nil {
		t.Fatal(err)
	}
	builtin := regexp.MustCompile("^(?:" + metrics.GatewayAPICanaryService(ns, "app") + ")$")
	form := regexp.MustCompile(fmt.Sprintf(`^httproute-%[1]s-app-gw-%[1]s-public-ep-web-0-[0-9a-f]+-svc-%[1]s-app-canary-1@kubernetesgateway$`, ns))
	var matched []string
	for name, n := range services {
		if !builtin.MatchString(name) {
			continue
		}
		matched = append(matched, name)
		if !form.MatchString(name) || int(n) < v2 {
			t.Errorf("canary service %q counts %v requests, want the form %s and at least %d", name, n, form, v2)
		}
		if !slices.Contains(durations, name) {
			t.Errorf("%s has no service %q: %v", gatewayapi.ServiceDurationMetric, name, durations)
		}
	}
	if len(matched) != 1 {
		t.Errorf("services matching the built-in queries' %s: %v; all services: %v", builtin, matched, services)
	}
	t.Logf("Traefik's service label of the canary backend: %v (all services: %v)", matched, services)
}

// startNode starts the real node (waiting for the machine-wide lock) with
// Flotilla's and Gateway API's CRDs, and returns it with a client that
// knows both.
func startNode(ctx context.Context, t *testing.T) (*localnode.Cluster, client.Client) {
	t.Helper()
	cluster, err := localnode.Start(ctx, localnode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Errorf("stopping the node: %v", err)
		}
	})
	if err := gatewayapi.InstallCRDs(cluster.Config); err != nil {
		t.Fatal(err)
	}
	bases := filepath.Join(controlplane.ModuleRoot(), "config", "crd", "bases")
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{Paths: []string{bases}}); err != nil {
		t.Fatal(err)
	}
	c, err := gatewayapi.NewClient(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return cluster, c
}

// deployApp runs the example app as the Canary's primary (v1) and canary
// (v2) Deployments, each behind its Service, and waits for both.
func deployApp(ctx context.Context, t *testing.T, cluster *localnode.Cluster, c client.Client) {
	t.Helper()
	for name, version := range map[string]string{"app-primary": "v1", "app-canary": "v2"} {
		image := importApp(ctx, t, cluster, version)
		labels := map[string]string{"app": name}
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "app", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
							PeriodSeconds: 1,
						},
					}}},
				},
			},
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{
				Selector: labels,
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
			},
		}
		for _, obj := range []client.Object{dep, svc} {
			if err := c.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"app-primary", "app-canary"} {
		poll(ctx, t, "Deployment "+name+" available", func(ctx context.Context) (bool, error) {
			var d appsv1.Deployment
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &d)
			return err == nil && d.Status.AvailableReplicas == 1, err
		})
	}
}

// importApp builds examples/app at version into the node's containerd and
// returns the image's reference.
func importApp(ctx context.Context, t *testing.T, cluster *localnode.Cluster, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	ldflags := "-s -w -X main.version=" + version
	if err := ociimage.BuildGo(ctx, controlplane.ModuleRoot(), "./examples/app", bin, ldflags, "linux", runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.AppImage(bin, ociimage.BuildInfo{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	ref := "flotilla.local/app:" + version
	if err := cluster.ImportImage(ctx, ref, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

// waitRouteAccepted waits until Traefik accepts the route on Gateway
// public with its backends resolved, and answers through it.
func waitRouteAccepted(ctx context.Context, t *testing.T, c client.Client, traefik *gatewayapi.Traefik) {
	t.Helper()
	poll(ctx, t, "HTTPRoute app Accepted with ResolvedRefs by Traefik", func(ctx context.Context) (bool, error) {
		var route gatewayv1.HTTPRoute
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "app"}, &route); err != nil {
			return false, err
		}
		for _, p := range route.Status.Parents {
			if string(p.ControllerName) == gatewayapi.ControllerName &&
				meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) &&
				meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionResolvedRefs)) {
				return true, nil
			}
		}
		return false, nil
	})
	poll(ctx, t, "Traefik answering through the route", func(ctx context.Context) (bool, error) {
		_, err := version(ctx, traefik, nil)
		return err == nil, nil
	})
}

// setWeights sets the route's weights with the router and waits until
// Traefik has the new configuration: a response from the version that
// just got a share of traffic (v2), or, for a canary weight of 100, 50
// responses in a row from v2.
func setWeights(ctx context.Context, t *testing.T, r canary.Router, cn *v1alpha1.Canary, traefik *gatewayapi.Traefik, primary, canaryWeight int) {
	t.Helper()
	if err := r.SetRoutes(ctx, cn, primary, canaryWeight); err != nil {
		t.Fatal(err)
	}
	want := 1
	if canaryWeight == 100 {
		want = 50
	}
	run := 0
	poll(ctx, t, fmt.Sprintf("Traefik routing %d/%d", primary, canaryWeight), func(ctx context.Context) (bool, error) {
		for range 100 {
			v, err := version(ctx, traefik, nil)
			if err != nil {
				return false, nil
			}
			if v != "v2" {
				run = 0
				continue
			}
			if run++; run >= want {
				return true, nil
			}
		}
		return false, nil
	})
}

// send sends n requests with header through Traefik's entrypoint and
// counts the versions that answered.
func send(ctx context.Context, t *testing.T, traefik *gatewayapi.Traefik, n int, header http.Header) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		v, err := version(ctx, traefik, header)
		if err != nil {
			t.Fatal(err)
		}
		got[v]++
	}
	return got
}

// version asks the app through Traefik, with header, which version
// answered.
func version(ctx context.Context, traefik *gatewayapi.Traefik, header http.Header) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, traefik.URL()+"/", nil)
	if err != nil {
		return "", err
	}
	maps.Copy(req.Header, header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET / through traefik: %s: %s", resp.Status, body)
	}
	var info struct{ Version string }
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("GET / through traefik: %w: %s", err, body)
	}
	return info.Version, nil
}

// poll calls cond every 200ms until it is true, fails the test when cond
// errs or when two minutes pass.
func poll(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

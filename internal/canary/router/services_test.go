package router_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/router"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// startBareAPIServer starts etcd and kube-apiserver without CRDs (the
// Services and Deployments are built in; the Canary is only an owner
// reference) and returns an admin client. It is stopped when t ends.
func startBareAPIServer(t *testing.T) client.Client {
	t.Helper()
	ctrllog.SetLogger(logr.Discard())
	return controlplane.StartBare(t).Client
}

// blueGreenCanary makes a namespace with a Deployment "app" selected by
// app=app and returns a kubernetes-router Canary of it (not stored: it
// only owns the Services, and the API server checks no more than the
// owner reference's form).
func blueGreenCanary(t *testing.T, c client.Client, namespace string, labels map[string]string, edit func(*v1alpha1.Canary)) *v1alpha1.Canary {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			},
		},
	}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	cn := &v1alpha1.Canary{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Canary"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "app", UID: types.UID("uid-" + namespace)},
		Spec: v1alpha1.CanarySpec{
			Provider:  v1alpha1.RouterKubernetes,
			TargetRef: v1alpha1.CanaryTargetRef{Name: "app"},
			Service:   v1alpha1.CanaryService{Port: 80},
		},
	}
	if edit != nil {
		edit(cn)
	}
	return cn
}

// reconciled returns the router of provider, with the Services, after
// one Reconcile of cn.
func reconciled(t *testing.T, k client.Client, provider string, cn *v1alpha1.Canary) canary.Router {
	t.Helper()
	r, err := router.New(provider, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(context.Background(), cn); err != nil {
		t.Fatal(err)
	}
	return r
}

// service reads the Service name of cn's namespace.
func service(t *testing.T, c client.Client, cn *v1alpha1.Canary, name string) *corev1.Service {
	t.Helper()
	var svc corev1.Service
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: cn.Namespace, Name: name}, &svc); err != nil {
		t.Fatalf("reading Service %s: %v", name, err)
	}
	return &svc
}

// selectors returns the selector of each named Service.
func selectors(t *testing.T, c client.Client, cn *v1alpha1.Canary, names ...string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, n := range names {
		out[n] = service(t, c, cn, n).Spec.Selector
	}
	return out
}

// TestServicesAndTheKubernetesRouter runs the Services maker and the
// blue/green router against a real kube-apiserver, which defaults the
// Services (clusterIP, sessionAffinity...) as a cluster does.
func TestServicesAndTheKubernetesRouter(t *testing.T) {
	k := startBareAPIServer(t)
	ctx := context.Background()
	app := map[string]string{"app": "app"}

	t.Run("Reconcile makes the apex, primary and canary Services, owned by the Canary", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "three-services", app, nil)
		reconciled(t, k, "", cn)
		want := map[string]map[string]string{
			"app":         {"app": "app-primary"},
			"app-primary": {"app": "app-primary"},
			"app-canary":  {"app": "app"},
		}
		if diff := cmp.Diff(want, selectors(t, k, cn, "app", "app-primary", "app-canary")); diff != "" {
			t.Errorf("selectors (-want +got):\n%s", diff)
		}
		for name := range want {
			svc := service(t, k, cn, name)
			wantPorts := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80), Protocol: corev1.ProtocolTCP}}
			if diff := cmp.Diff(wantPorts, svc.Spec.Ports); diff != "" {
				t.Errorf("Service %s ports (-want +got):\n%s", name, diff)
			}
			if svc.Spec.Type != corev1.ServiceTypeClusterIP || !metav1.IsControlledBy(svc, cn) {
				t.Errorf("Service %s: type %s, controller %+v; want ClusterIP owned by the Canary", name, svc.Spec.Type, metav1.GetControllerOf(svc))
			}
		}
	})

	t.Run("a second Reconcile changes nothing the API server defaulted", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "idempotent", app, nil)
		s := router.NewServices(k)
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		before := map[string]string{}
		for _, n := range []string{"app", "app-primary", "app-canary"} {
			before[n] = service(t, k, cn, n).ResourceVersion
		}
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		for n, rv := range before {
			if got := service(t, k, cn, n).ResourceVersion; got != rv {
				t.Errorf("Service %s written again (resourceVersion %s -> %s)", n, rv, got)
			}
		}
	})

	t.Run("the apex name, port name and a named target port come from spec.service", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "named", map[string]string{"app.kubernetes.io/name": "shop", "tier": "web"}, func(cn *v1alpha1.Canary) {
			cn.Spec.Service = v1alpha1.CanaryService{Name: "shop", Port: 9898, PortName: "grpc", TargetPort: ptr.To(intstr.FromString("grpc"))}
		})
		if err := router.NewServices(k).Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]string{
			"shop":         {"app.kubernetes.io/name": "shop-primary"},
			"shop-primary": {"app.kubernetes.io/name": "shop-primary"},
			"shop-canary":  {"app.kubernetes.io/name": "shop"},
		}
		if diff := cmp.Diff(want, selectors(t, k, cn, "shop", "shop-primary", "shop-canary")); diff != "" {
			t.Errorf("selectors, on the app label only (-want +got):\n%s", diff)
		}
		wantPorts := []corev1.ServicePort{{Name: "grpc", Port: 9898, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP}}
		if diff := cmp.Diff(wantPorts, service(t, k, cn, "shop").Spec.Ports); diff != "" {
			t.Errorf("ports (-want +got):\n%s", diff)
		}
	})

	t.Run("a changed port is written to every Service", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "port-change", app, nil)
		s := router.NewServices(k)
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		cn.Spec.Service.Port = 8080
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"app", "app-primary", "app-canary"} {
			p := service(t, k, cn, n).Spec.Ports
			if len(p) != 1 || p[0].Port != 8080 || p[0].TargetPort != intstr.FromInt32(8080) {
				t.Errorf("Service %s ports %+v, want 8080 -> 8080", n, p)
			}
		}
	})

	t.Run("Reconcile puts back a selector someone else changed", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "selector-reset", app, nil)
		s := router.NewServices(k)
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"app", "app-canary"} {
			svc := service(t, k, cn, n)
			svc.Spec.Selector = map[string]string{"app": "something-else"}
			if err := k.Update(ctx, svc); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]string{"app": {"app": "app-primary"}, "app-canary": {"app": "app"}}
		if diff := cmp.Diff(want, selectors(t, k, cn, "app", "app-canary")); diff != "" {
			t.Errorf("selectors after Reconcile (-want +got):\n%s", diff)
		}
	})

	t.Run("a Service the Canary does not own is refused on spec.service", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "foreign", app, nil)
		foreign := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "app-primary", Namespace: cn.Namespace},
			Spec:       corev1.ServiceSpec{Selector: app, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		if err := k.Create(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		err := router.NewServices(k).Reconcile(ctx, cn)
		var se *canary.SpecError
		if !errors.As(err, &se) || se.Field != "spec.service" || !strings.Contains(err.Error(), "Service foreign/app-primary exists and is not owned by this Canary") {
			t.Fatalf("Reconcile = %v, want a *SpecError on spec.service naming foreign/app-primary", err)
		}
		if got := service(t, k, cn, "app-primary").Spec.Selector; !cmp.Equal(got, app) {
			t.Errorf("the foreign Service's selector was changed to %v", got)
		}
	})

	t.Run("the kubernetes router moves the apex between primary and canary", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "switch", app, nil)
		if err := router.NewKubernetes(k).SetRoutes(ctx, cn, 100, 0); err == nil || !strings.Contains(err.Error(), "reading Service switch/app") {
			t.Errorf("SetRoutes before the Services exist = %v, want an error reading switch/app", err)
		}
		r := reconciled(t, k, v1alpha1.RouterKubernetes, cn)
		for _, step := range []struct {
			primary, canary int
			selects         string
			reads           [2]int
		}{
			{0, 100, "app", [2]int{0, 100}},
			{100, 0, "app-primary", [2]int{100, 0}},
			{0, 100, "app", [2]int{0, 100}},
			{50, 50, "app-primary", [2]int{100, 0}}, // no split in blue/green: the primary keeps it
		} {
			if err := r.SetRoutes(ctx, cn, step.primary, step.canary); err != nil {
				t.Fatalf("SetRoutes(%d, %d): %v", step.primary, step.canary, err)
			}
			if got := service(t, k, cn, "app").Spec.Selector["app"]; got != step.selects {
				t.Errorf("after SetRoutes(%d, %d) the apex selects app=%s, want %s", step.primary, step.canary, got, step.selects)
			}
			p, c, err := r.GetRoutes(ctx, cn)
			if err != nil || [2]int{p, c} != step.reads {
				t.Errorf("GetRoutes after SetRoutes(%d, %d) = %d/%d, %v; want %v", step.primary, step.canary, p, c, err, step.reads)
			}
		}
	})

	t.Run("Reconcile keeps the apex on the canary when the router moved it there", func(t *testing.T) {
		cn := blueGreenCanary(t, k, "keep-canary", app, nil)
		r := reconciled(t, k, "", cn)
		if err := r.SetRoutes(ctx, cn, 0, 100); err != nil {
			t.Fatal(err)
		}
		if err := r.Reconcile(ctx, cn); err != nil {
			t.Fatal(err)
		}
		if p, c, err := r.GetRoutes(ctx, cn); err != nil || p != 0 || c != 100 {
			t.Errorf("GetRoutes after Reconcile = %d/%d, %v; want 0/100 kept", p, c, err)
		}
	})

	t.Run("weights that do not add up are refused before anything is read", func(t *testing.T) {
		cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "nowhere", Name: "app"}}
		r := router.NewKubernetes(k)
		for _, w := range [][2]int{{60, 60}, {-10, 110}, {110, -10}, {0, 0}} {
			err := r.SetRoutes(ctx, cn, w[0], w[1])
			if want := fmt.Sprintf("canary nowhere/app: weights %d/%d do not add up to 100", w[0], w[1]); err == nil || err.Error() != want {
				t.Errorf("SetRoutes(%d, %d) = %v, want %q", w[0], w[1], err, want)
			}
		}
	})

	t.Run("the target decides the selectors", func(t *testing.T) {
		missing := &v1alpha1.Canary{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ghost"},
			Spec:       v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "ghost"}},
		}
		var nf *canary.TargetNotFoundError
		if _, _, err := router.Selectors(ctx, k, missing); !errors.As(err, &nf) || nf.Target != "default/ghost" {
			t.Errorf("Selectors of a missing target = %v, want a *TargetNotFoundError for default/ghost", err)
		}
		unlabelled := blueGreenCanary(t, k, "unlabelled", map[string]string{"tier": "web"}, nil)
		var se *canary.SpecError
		if _, _, err := router.Selectors(ctx, k, unlabelled); !errors.As(err, &se) || se.Field != "spec.targetRef" {
			t.Errorf("Selectors of a target without an app label = %v, want a *SpecError on spec.targetRef", err)
		}
		if err := router.NewServices(k).Reconcile(ctx, unlabelled); !errors.As(err, &se) {
			t.Errorf("Reconcile of a target without an app label = %v, want the *SpecError", err)
		}
		labelled := blueGreenCanary(t, k, "by-name-label", map[string]string{"name": "api", "tier": "web"}, nil)
		p, c, err := router.Selectors(ctx, k, labelled)
		if err != nil || !cmp.Equal(p, map[string]string{"name": "api-primary"}) || !cmp.Equal(c, map[string]string{"name": "api"}) {
			t.Errorf("Selectors = %v, %v, %v; want name=api-primary and name=api", p, c, err)
		}
	})
}

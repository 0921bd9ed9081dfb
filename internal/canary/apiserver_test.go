package canary_test

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// startAPIServer starts etcd and kube-apiserver (no CRDs: the Canary is
// only ever an owner reference here) and returns an admin client with
// Flotilla's scheme. It is stopped when t ends.
func startAPIServer(t *testing.T) client.Client {
	t.Helper()
	ctrllog.SetLogger(logr.Discard())
	return controlplane.StartBare(t).Client
}

// inNamespace creates a namespace named name and returns a Canary of
// target there, with a UID so it can own objects (it is not stored: the
// API server only checks the owner reference's form).
func inNamespace(t *testing.T, c client.Client, name, target string) *v1alpha1.Canary {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return &v1alpha1.Canary{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Canary"},
		ObjectMeta: metav1.ObjectMeta{Name: target, Namespace: name, UID: types.UID("uid-" + name)},
		Spec: v1alpha1.CanarySpec{
			TargetRef: v1alpha1.CanaryTargetRef{Name: target},
			Service:   v1alpha1.CanaryService{Port: 9898},
		},
	}
}

// create stores obj, failing t on an error.
func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// get reads obj back by its namespace and name, failing t on an error.
func get(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("reading %T %s: %v", obj, obj.GetName(), err)
	}
}

// must fails t on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// observe runs d.Observe at stepTime, failing t on an error.
func observe(t *testing.T, d *canary.Deployments, c *v1alpha1.Canary) canary.Observation {
	t.Helper()
	obs, err := d.Observe(context.Background(), c, stepTime)
	must(t, err)
	return obs
}

package controlplane

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// TestSharedClustersAreApart starts two clusters on one etcd and checks
// that each has the CRDs and that an object created in one is not in the
// other.
func TestSharedClustersAreApart(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts etcd and two kube-apiservers (run `make test`)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var started []int
	s, err := StartShared(ctx, SharedOptions{Clusters: 2, BeforeStart: func(i int) error { started = append(started, i); return nil }})
	if err != nil {
		t.Fatalf("StartShared: %v", err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	if len(started) != 2 || started[0] != 0 || started[1] != 1 {
		t.Errorf("BeforeStart ran for %v, want [0 1]", started)
	}
	a, b := s.Clusters[0], s.Clusters[1]
	if a.Name != "cluster-00" || b.Name != "cluster-01" {
		t.Errorf("names %q, %q, want cluster-00, cluster-01", a.Name, b.Name)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-in-cluster-00"}}
	if err := a.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace in %s: %v", a.Name, err)
	}
	err = b.Client.Get(ctx, client.ObjectKeyFromObject(ns), &corev1.Namespace{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s in %s: got error %v, want NotFound", ns.Name, b.Name, err)
	}
	for _, c := range s.Clusters {
		if err := c.Client.List(ctx, &v1alpha1.StackList{}); err != nil {
			t.Errorf("listing Stacks in %s (CRDs installed?): %v", c.Name, err)
		}
	}
}

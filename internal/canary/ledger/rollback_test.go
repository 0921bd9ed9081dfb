package ledger_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
)

// policyAt creates an ImagePolicy whose status chose image:tag.
func policyAt(t *testing.T, ns, name, image, tag string) client.ObjectKey {
	t.Helper()
	ctx := context.Background()
	p := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: name},
			Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "^1"}}}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Status.LatestRef = &v1alpha1.ImageRef{Name: image, Tag: tag}
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	return client.ObjectKeyFromObject(p)
}

// TestQuarantineFindsThePoliciesThatChoseTheImage: policies of the
// Canary's namespace and of its Stack's namespace that chose the failed
// image:tag are quarantined and asked to reconcile; others are left alone.
func TestQuarantineFindsThePoliciesThatChoseTheImage(t *testing.T) {
	f := newFleet(t)
	cl := newCluster(t, f, gitPassword) // Canary and Stack in cl.ns
	cl.applied(t, f.commit)
	appNS := newNamespace(t)
	// The Canary lives in appNS, applied by the Stack of cl.ns.
	cn := cl.canary.DeepCopy()
	cn.ObjectMeta = metav1.ObjectMeta{Namespace: appNS, Name: "podinfo", Labels: cl.canary.Labels}
	cl.stack.Status.Inventory = append(cl.stack.Status.Inventory, v1alpha1.InventoryEntry{Group: "flotilla.io", Version: "v1alpha1", Kind: "Canary", Namespace: appNS, Name: "podinfo"})
	if err := env.Client.Status().Update(context.Background(), cl.stack); err != nil {
		t.Fatal(err)
	}
	stranger := newNamespace(t)
	hit := policyAt(t, cl.ns, "podinfo", "docker.io/stefanprodan/podinfo", "6.5.1")
	local := policyAt(t, appNS, "podinfo", "stefanprodan/podinfo", "6.5.1")
	otherTag := policyAt(t, cl.ns, "podinfo-old", "docker.io/stefanprodan/podinfo", "6.5.0")
	otherImage := policyAt(t, cl.ns, "redis", "docker.io/library/redis", "6.5.1")
	foreign := policyAt(t, stranger, "podinfo", "docker.io/stefanprodan/podinfo", "6.5.1")

	rb := ledger.NewRollback(env.Client)
	for range 2 { // quarantining twice keeps one entry
		if err := rb.Quarantine(context.Background(), cn, []string{"stefanprodan/podinfo:6.5.1@sha256:0123"}, "5 failed checks"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		key  client.ObjectKey
		want bool
	}{{hit, true}, {local, true}, {otherTag, false}, {otherImage, false}, {foreign, false}} {
		p := &v1alpha1.ImagePolicy{}
		if err := env.Client.Get(context.Background(), tc.key, p); err != nil {
			t.Fatal(err)
		}
		q := p.Status.QuarantinedTags
		requested := p.Annotations[v1alpha1.ReconcileRequestAnnotation] != ""
		if !tc.want {
			if len(q) != 0 || requested {
				t.Errorf("%s was touched: %+v, annotations %v", tc.key, q, p.Annotations)
			}
			continue
		}
		if len(q) != 1 || q[0].Tag != "6.5.1" || q[0].Canary != appNS+"/podinfo" || q[0].Reason != "5 failed checks" || !requested {
			t.Errorf("%s: quarantinedTags %+v, reconcile requested %v", tc.key, q, requested)
		}
	}
}

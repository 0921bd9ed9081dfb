package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

// chosePolicy is an ImagePolicy of ns whose status chose image:tag.
func chosePolicy(ns, name, image, tag string) *v1alpha1.ImagePolicy {
	return &v1alpha1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Status:     v1alpha1.ImagePolicyStatus{LatestRef: &v1alpha1.ImageRef{Name: image, Tag: tag}},
	}
}

// rollbackWith returns a Rollback on a fake client holding objs, with
// funcs intercepting its calls, and a fixed clock.
func rollbackWith(funcs interceptor.Funcs, objs ...client.Object) (*Rollback, client.Client) {
	c := fake.NewClientBuilder().WithScheme(v1alpha1.NewScheme()).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.ImagePolicy{}).WithInterceptorFuncs(funcs).Build()
	rb := NewRollback(c)
	rb.now = func() time.Time { return time.Date(2026, 12, 4, 9, 30, 15, 700, time.UTC) }
	return rb, c
}

func failedCanary(ns string, labels map[string]string) *v1alpha1.Canary {
	return &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo", Labels: labels}}
}

func TestQuarantineRecordsTheTagTheCanaryAndTheTime(t *testing.T) {
	rb, c := rollbackWith(interceptor.Funcs{}, chosePolicy("apps", "podinfo", "ghcr.io/acme/podinfo", "1.2.0"))
	if err := rb.Quarantine(context.Background(), failedCanary("apps", nil), []string{"ghcr.io/acme/podinfo:1.2.0"}, "3 failed checks"); err != nil {
		t.Fatal(err)
	}
	var p v1alpha1.ImagePolicy
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: "podinfo"}, &p); err != nil {
		t.Fatal(err)
	}
	q := p.Status.QuarantinedTags
	if len(q) != 1 {
		t.Fatalf("quarantinedTags %+v, want one entry", q)
	}
	want := v1alpha1.QuarantinedTag{Tag: "1.2.0", Reason: "3 failed checks", Canary: "apps/podinfo",
		Time: metav1.NewTime(time.Date(2026, 12, 4, 9, 30, 15, 0, time.UTC))}
	if q[0].Tag != want.Tag || q[0].Reason != want.Reason || q[0].Canary != want.Canary || !q[0].Time.Equal(&want.Time) {
		t.Errorf("entry %+v, want %+v (time truncated to the second)", q[0], want)
	}
	if got := p.Annotations[v1alpha1.ReconcileRequestAnnotation]; !strings.HasSuffix(got, " quarantine 1.2.0") {
		t.Errorf("reconcile request %q, want one naming the quarantined tag", got)
	}
}

func TestQuarantineWithoutAStackLooksOnlyInTheCanarysNamespace(t *testing.T) {
	var listed []string
	rb, _ := rollbackWith(interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			o := &client.ListOptions{}
			o.ApplyOptions(opts)
			listed = append(listed, o.Namespace)
			return c.List(ctx, list, opts...)
		},
	})
	labelled := map[string]string{apply.OwnerNameLabel: "missing", apply.OwnerNamespaceLabel: "flotilla-system"}
	for _, cn := range []*v1alpha1.Canary{failedCanary("apps", nil), failedCanary("apps", labelled)} {
		listed = nil
		if err := rb.Quarantine(context.Background(), cn, []string{"podinfo:1.0.0"}, "failed"); err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed[0] != "apps" {
			t.Errorf("labels %v: listed namespaces %q, want only apps (no Stack owns the Canary)", cn.Labels, listed)
		}
	}
}

func TestQuarantineRetriesAConflictOnTheStatus(t *testing.T) {
	conflicts := 2
	rb, c := rollbackWith(interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if conflicts > 0 {
				conflicts--
				return apierrors.NewConflict(schema.GroupResource{Group: "flotilla.io", Resource: "imagepolicies"}, obj.GetName(), errors.New("moved"))
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}, chosePolicy("apps", "podinfo", "podinfo", "1.0.0"))
	if err := rb.Quarantine(context.Background(), failedCanary("apps", nil), []string{"podinfo:1.0.0"}, "failed"); err != nil {
		t.Fatalf("Quarantine after two conflicts: %v", err)
	}
	var p v1alpha1.ImagePolicy
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: "podinfo"}, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Status.QuarantinedTags) != 1 || conflicts != 0 {
		t.Errorf("quarantinedTags %+v with %d conflicts left, want the tag recorded after retrying", p.Status.QuarantinedTags, conflicts)
	}
}

func TestQuarantineErrorsNameThePolicyTheTagAndTheNamespace(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "flotilla.io", Resource: "imagepolicies"}, "", errors.New("no"))
	for _, tc := range []struct {
		name  string
		funcs interceptor.Funcs
		want  []string
	}{
		{"the list is refused", interceptor.Funcs{
			List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
				return forbidden
			},
		}, []string{"listing the ImagePolicies of namespace apps"}},
		{"the status patch is refused", interceptor.Funcs{
			SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
				return forbidden
			},
		}, []string{"quarantining tag 1.0.0 in ImagePolicy apps/podinfo"}},
		{"the reconcile request is refused", interceptor.Funcs{
			Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
				return forbidden
			},
		}, []string{"requesting a reconcile of ImagePolicy apps/podinfo after quarantining 1.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rb, _ := rollbackWith(tc.funcs, chosePolicy("apps", "podinfo", "podinfo", "1.0.0"))
			err := rb.Quarantine(context.Background(), failedCanary("apps", nil), []string{"podinfo:1.0.0"}, "failed")
			if !apierrors.IsForbidden(err) {
				t.Fatalf("Quarantine = %v, want the Forbidden kept as the cause", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestQuarantineGoesOnAfterOnePolicyFails(t *testing.T) {
	rb, c := rollbackWith(interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if obj.GetName() == "broken" {
				return errors.New("etcd is on fire")
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}, chosePolicy("apps", "broken", "podinfo", "1.0.0"), chosePolicy("apps", "podinfo", "podinfo", "1.0.0"))
	err := rb.Quarantine(context.Background(), failedCanary("apps", nil), []string{"podinfo:1.0.0"}, "failed")
	if err == nil || !strings.Contains(err.Error(), "ImagePolicy apps/broken") {
		t.Fatalf("Quarantine = %v, want the broken policy named", err)
	}
	var p v1alpha1.ImagePolicy
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: "podinfo"}, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Status.QuarantinedTags) != 1 {
		t.Errorf("the healthy policy was not quarantined: %+v", p.Status.QuarantinedTags)
	}
}

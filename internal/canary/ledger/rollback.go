package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// Rollback quarantines a failed canary's tags in the ImagePolicies that
// chose them.
type Rollback struct {
	client client.Client
	now    func() time.Time
}

var _ canary.GitRollback = &Rollback{}

// NewRollback returns a Rollback that patches ImagePolicies with c.
func NewRollback(c client.Client) *Rollback { return &Rollback{client: c, now: time.Now} }

// Quarantine implements canary.GitRollback: every ImagePolicy whose
// status.latestRef is one of images gets the tag in
// status.quarantinedTags and a reconcile request, so its controller moves
// back to the best remaining tag and its ImageUpdate writes that into Git.
// The policies looked at are those of the Canary's namespace and of the
// namespace of the Stack that applied it. No matching policy is no error:
// the image did not come from image automation.
func (r *Rollback) Quarantine(ctx context.Context, c *v1alpha1.Canary, images []string, reason string) error {
	var errs []error
	for _, ns := range r.namespaces(ctx, c) {
		var list v1alpha1.ImagePolicyList
		if err := r.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			errs = append(errs, fmt.Errorf("listing the ImagePolicies of namespace %s: %w", ns, err))
			continue
		}
		for _, p := range list.Items {
			if tag := chosenAmong(p.Status.LatestRef, images); tag != "" {
				errs = append(errs, r.quarantine(ctx, client.ObjectKeyFromObject(&p), tag, c, reason))
			}
		}
	}
	return errors.Join(errs...)
}

// namespaces are where policies may have chosen the Canary's image.
func (r *Rollback) namespaces(ctx context.Context, c *v1alpha1.Canary) []string {
	out := []string{c.Namespace}
	if stack, err := stackOf(ctx, r.client, c); err == nil && stack.Namespace != c.Namespace {
		out = append(out, stack.Namespace)
	}
	return out
}

// chosenAmong returns ref's tag when one of images is ref's image at that
// tag (a digest on the image is ignored), "" otherwise.
func chosenAmong(ref *v1alpha1.ImageRef, images []string) string {
	if ref == nil || ref.Tag == "" {
		return ""
	}
	for _, img := range images {
		repo, tag := splitImage(img)
		if tag == ref.Tag && sameRepository(repo, ref.Name) {
			return tag
		}
	}
	return ""
}

// splitImage splits repo:tag@digest into the repository and the tag.
func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, ""
	}
	return image[:i], image[i+1:]
}

// sameRepository compares repositories as registries do: nginx is
// index.docker.io/library/nginx.
func sameRepository(a, b string) bool {
	ra, err1 := name.NewRepository(a, name.WeakValidation)
	rb, err2 := name.NewRepository(b, name.WeakValidation)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return ra.Name() == rb.Name()
}

// quarantine adds tag to the policy's status.quarantinedTags (the oldest
// dropped beyond the bound) and asks for a reconcile.
func (r *Rollback) quarantine(ctx context.Context, key client.ObjectKey, tag string, c *v1alpha1.Canary, reason string) error {
	now := metav1.NewTime(r.now().UTC().Truncate(time.Second))
	entry := v1alpha1.QuarantinedTag{Tag: tag, Reason: reason, Canary: c.Namespace + "/" + c.Name, Time: now}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := &v1alpha1.ImagePolicy{}
		if err := r.client.Get(ctx, key, p); err != nil {
			return err
		}
		before := p.DeepCopy()
		q := slices.DeleteFunc(p.Status.QuarantinedTags, func(x v1alpha1.QuarantinedTag) bool { return x.Tag == tag })
		q = append(q, entry)
		p.Status.QuarantinedTags = q[max(0, len(q)-v1alpha1.MaxQuarantinedTags):]
		return r.client.Status().Patch(ctx, p, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return fmt.Errorf("quarantining tag %s in ImagePolicy %s: %w", tag, key, err)
	}
	p := &v1alpha1.ImagePolicy{}
	p.Namespace, p.Name = key.Namespace, key.Name
	if err := r.client.Patch(ctx, p, v1alpha1.ReconcileRequestPatch(v1alpha1.ReconcileRequestValue(now.Time)+" quarantine "+tag)); err != nil {
		return fmt.Errorf("requesting a reconcile of ImagePolicy %s after quarantining %s: %w", key, tag, err)
	}
	return nil
}

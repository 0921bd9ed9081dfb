package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// errClearQuarantineKind refuses --clear-quarantine on another kind.
var errClearQuarantineKind = errors.New("--clear-quarantine applies to an image policy (it lifts the quarantine of the tags failed Canaries refused)")

// clearQuarantine empties an ImagePolicy's status.quarantinedTags when
// --clear-quarantine is set; the reconcile that follows may then choose
// those tags again.
func (o *ReconcileOptions) clearQuarantine(ctx context.Context, c client.Client, obj client.Object, progress *Progress) error {
	if !o.ClearQuarantine {
		return nil
	}
	p, ok := obj.(*v1alpha1.ImagePolicy)
	if !ok {
		return errClearQuarantineKind
	}
	if len(p.Status.QuarantinedTags) == 0 {
		progress.Println("► %s has no quarantined tag", objectName(obj))
		return nil
	}
	tags := make([]string, 0, len(p.Status.QuarantinedTags))
	for _, q := range p.Status.QuarantinedTags {
		tags = append(tags, q.Tag)
	}
	patch := client.MergeFromWithOptions(p.DeepCopy(), client.MergeFromWithOptimisticLock{})
	p.Status.QuarantinedTags = nil
	if err := c.Status().Patch(ctx, p, patch); err != nil {
		return fmt.Errorf("clearing the quarantine of %s: %w", objectName(obj), err)
	}
	progress.Println("► lifted the quarantine of %s on %s", strings.Join(tags, ", "), objectName(obj))
	return nil
}

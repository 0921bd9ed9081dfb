package canary

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

// SpecAnnotation, on the primary Deployment, is the TargetSpec hash of the
// pod template it was last given.
const SpecAnnotation = "flotilla.io/canary-spec"

// FieldOwner is the field manager of the engine's writes (the target's
// replicas, the primary, the Services).
const FieldOwner = "flotilla-canary"

// Deployments is the Workload of a Canary on a Kubernetes cluster, and
// what observes it.
type Deployments struct {
	client client.Client
}

var _ Workload = (*Deployments)(nil)

// NewDeployments returns the Workload acting through c; c's scheme must
// know the Canary type (for owner references).
func NewDeployments(c client.Client) *Deployments { return &Deployments{client: c} }

// TargetNotFoundError says the Canary's target Deployment does not exist.
type TargetNotFoundError struct {
	// Canary and Target are namespace/name.
	Canary, Target string
}

func (e *TargetNotFoundError) Error() string {
	return fmt.Sprintf("canary %s: target Deployment %s not found", e.Canary, e.Target)
}

// target reads the Canary's target Deployment.
func (d *Deployments) target(ctx context.Context, c *v1alpha1.Canary) (*appsv1.Deployment, error) {
	var t appsv1.Deployment
	key := types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.TargetRef.Name}
	if err := d.client.Get(ctx, key, &t); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &TargetNotFoundError{Canary: c.Namespace + "/" + c.Name, Target: key.String()}
		}
		return nil, fmt.Errorf("reading target Deployment %s: %w", key, err)
	}
	return &t, nil
}

// primary reads the primary Deployment; nil when it does not exist.
func (d *Deployments) primary(ctx context.Context, c *v1alpha1.Canary) (*appsv1.Deployment, error) {
	var p appsv1.Deployment
	key := types.NamespacedName{Namespace: c.Namespace, Name: PrimaryName(c)}
	if err := d.client.Get(ctx, key, &p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading primary Deployment %s: %w", key, err)
	}
	return &p, nil
}

// targetSpec reads the target, the hashes of the configs it uses and its
// spec hash.
func (d *Deployments) targetSpec(ctx context.Context, c *v1alpha1.Canary) (*appsv1.Deployment, map[string]string, string, error) {
	t, err := d.target(ctx, c)
	if err != nil {
		return nil, nil, "", err
	}
	configs, err := d.trackedConfigs(ctx, t)
	if err != nil {
		return nil, nil, "", err
	}
	return t, configs, SpecHash(&t.Spec.Template, configs), nil
}

// Observe reads the target, the ConfigMaps and Secrets it uses, and the
// primary, as of now.
func (d *Deployments) Observe(ctx context.Context, c *v1alpha1.Canary, now time.Time) (Observation, error) {
	t, configs, spec, err := d.targetSpec(ctx, c)
	if err != nil {
		return Observation{}, err
	}
	obs := Observation{
		Now: now, TargetSpec: spec, TrackedConfigs: configs,
		Images: images(&t.Spec.Template), Target: DeploymentReadiness(t, true),
		ReplicasAppliedBy: replicasAppliedBy(t),
	}
	p, err := d.primary(ctx, c)
	if err != nil || p == nil {
		obs.Primary.Message = PrimaryName(c) + " does not exist yet"
		return obs, err
	}
	obs.PrimaryExists, obs.PrimarySpec, obs.Primary = true, p.Annotations[SpecAnnotation], DeploymentReadiness(p, false)
	return obs, nil
}

// EnsurePrimary creates the primary from the target when it is missing.
func (d *Deployments) EnsurePrimary(ctx context.Context, c *v1alpha1.Canary) error {
	if p, err := d.primary(ctx, c); err != nil || p != nil {
		return err
	}
	if err := d.syncAutoscaler(ctx, c); err != nil {
		return err
	}
	t, _, spec, err := d.targetSpec(ctx, c)
	if err != nil {
		return err
	}
	p := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
		Name: PrimaryName(c), Namespace: c.Namespace, Labels: primaryLabels(t.Labels),
	}}
	if err := primarySpec(p, t, spec); err != nil {
		return err
	}
	p.Spec.Replicas = ptr.To(max(ptr.Deref(t.Spec.Replicas, 1), 1))
	if err := controllerutil.SetControllerReference(c, p, d.client.Scheme()); err != nil {
		return err
	}
	if err := d.client.Create(ctx, p, client.FieldOwner(FieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating primary Deployment %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// Promote copies the target's pod template (and strategy, minReadySeconds)
// to the primary, if the target still has spec.
func (d *Deployments) Promote(ctx context.Context, c *v1alpha1.Canary, spec string) error {
	t, _, got, err := d.targetSpec(ctx, c)
	if err != nil {
		return err
	}
	if got != spec {
		return fmt.Errorf("canary %s/%s: the target changed since its analysis (spec %s, judged %s); not promoting it", c.Namespace, c.Name, short(got), short(spec))
	}
	p, err := d.primary(ctx, c)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("canary %s/%s: primary Deployment %s is missing", c.Namespace, c.Name, PrimaryName(c))
	}
	replicas := p.Spec.Replicas
	if err := primarySpec(p, t, spec); err != nil {
		return err
	}
	p.Spec.Replicas = replicas
	if err := d.client.Update(ctx, p, client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsConflict(err) {
			return nil // read from a cache behind the last write: the next step looks again
		}
		return fmt.Errorf("promoting to primary Deployment %s/%s: %w", p.Namespace, p.Name, err)
	}
	return d.syncAutoscaler(ctx, c)
}

// primaryLabels are the target's labels without the Stack's ownership
// labels: the primary belongs to the Canary, so a Stack never prunes it.
func primaryLabels(l map[string]string) map[string]string {
	out := maps.Clone(l)
	delete(out, apply.OwnerNameLabel)
	delete(out, apply.OwnerNamespaceLabel)
	return out
}

// primarySpec gives p the target's spec with the app label renamed
// <value>-primary, and records spec on it.
func primarySpec(p, t *appsv1.Deployment, spec string) error {
	key, value, err := SelectorLabel(t)
	if err != nil {
		return err
	}
	s := t.Spec.DeepCopy()
	s.Selector.MatchLabels = maps.Clone(s.Selector.MatchLabels)
	s.Selector.MatchLabels[key] = value + "-primary"
	s.Template.Labels = maps.Clone(s.Template.Labels)
	if s.Template.Labels == nil {
		s.Template.Labels = map[string]string{}
	}
	s.Template.Labels[key] = value + "-primary"
	if p.Spec.Selector != nil {
		s.Selector = p.Spec.Selector // immutable once created
	}
	p.Spec = *s
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[SpecAnnotation] = spec
	return nil
}

// ScaleTarget scales the target to zero, or up to the primary's replicas.
func (d *Deployments) ScaleTarget(ctx context.Context, c *v1alpha1.Canary, up bool) error {
	t, err := d.target(ctx, c)
	if err != nil {
		return err
	}
	want := int32(0)
	if up {
		want = 1
		if p, err := d.primary(ctx, c); err != nil {
			return err
		} else if p != nil {
			want = max(ptr.Deref(p.Spec.Replicas, 1), 1)
		}
	}
	if t.Spec.Replicas != nil && *t.Spec.Replicas == want {
		return nil
	}
	patch := client.MergeFrom(t.DeepCopy())
	t.Spec.Replicas = ptr.To(want)
	if err := d.client.Patch(ctx, t, patch, client.FieldOwner(FieldOwner)); err != nil {
		return fmt.Errorf("scaling target Deployment %s/%s to %d: %w", t.Namespace, t.Name, want, err)
	}
	return nil
}

// DeploymentReadiness says whether every replica of d's current spec is
// available. With needReplicas, a Deployment scaled to zero is not ready (a
// canary at zero replicas serves nothing).
func DeploymentReadiness(d *appsv1.Deployment, needReplicas bool) Readiness {
	want := ptr.Deref(d.Spec.Replicas, 1)
	st := d.Status
	for _, cond := range st.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
			return Readiness{Message: fmt.Sprintf("Deployment %s exceeded its progress deadline: %s", d.Name, cond.Message)}
		}
	}
	switch {
	case needReplicas && want == 0:
		return Readiness{Message: fmt.Sprintf("Deployment %s is scaled to zero", d.Name)}
	case st.ObservedGeneration < d.Generation:
		return Readiness{Message: fmt.Sprintf("Deployment %s: the rollout of generation %d is not observed yet", d.Name, d.Generation)}
	case st.UpdatedReplicas < want:
		return Readiness{Message: fmt.Sprintf("Deployment %s: %d of %d replicas updated", d.Name, st.UpdatedReplicas, want)}
	case st.Replicas > st.UpdatedReplicas:
		return Readiness{Message: fmt.Sprintf("Deployment %s: %d old replicas pending termination", d.Name, st.Replicas-st.UpdatedReplicas)}
	case st.AvailableReplicas < want:
		return Readiness{Message: fmt.Sprintf("Deployment %s: %d of %d replicas available", d.Name, st.AvailableReplicas, want)}
	}
	return Readiness{Ready: true, Message: fmt.Sprintf("Deployment %s: %d replicas available", d.Name, want)}
}

// SpecHash hashes a pod template and the hashes of the configs it uses: a
// change of either starts an analysis.
func SpecHash(t *corev1.PodTemplateSpec, configs map[string]string) string {
	b, _ := json.Marshal(struct {
		Template *corev1.PodTemplateSpec `json:"template"`
		Configs  map[string]string       `json:"configs,omitempty"`
	}{t, configs})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// replicasAppliedBy returns the field manager, other than the engine, that
// owns d's spec.replicas through server-side apply.
func replicasAppliedBy(d *appsv1.Deployment) string {
	for _, m := range d.ManagedFields {
		if m.Operation != metav1.ManagedFieldsOperationApply || m.Manager == FieldOwner || m.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if json.Unmarshal(m.FieldsV1.GetRawBytes(), &fields) == nil {
			if _, ok := fields.Spec["f:replicas"]; ok {
				return m.Manager
			}
		}
	}
	return ""
}

func short(h string) string { return h[:min(len(h), 8)] }

// images lists the images of t's containers, init containers first.
func images(t *corev1.PodTemplateSpec) []string {
	var out []string
	for _, c := range append(slices.Clone(t.Spec.InitContainers), t.Spec.Containers...) {
		out = append(out, c.Image)
	}
	return out
}

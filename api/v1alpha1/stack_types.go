package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StackKind is the kind of Stack objects.
const StackKind = "Stack"

// StackSpec declares a path in a source, rendered with Kustomize and applied
// as one unit that owns an inventory.
// +kubebuilder:validation:XValidation:rule="!(has(self.wait) && self.wait && has(self.healthChecks) && size(self.healthChecks) > 0)",message="set either wait or healthChecks, not both: wait already checks every applied object"
type StackSpec struct {
	// SourceRef is the source whose artifact holds the manifests.
	// +required
	SourceRef SourceReference `json:"sourceRef"`

	// Path inside the artifact to render. Defaults to the artifact's root.
	// It cannot leave the artifact: absolute paths and .. are refused.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="path must be relative to the artifact root and must not contain '..'"
	// +optional
	Path string `json:"path,omitempty"`

	// Interval between two reconciles.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')",message="interval must be at least 1s"
	// +required
	Interval metav1.Duration `json:"interval"`

	// RetryInterval between attempts after a failure, from 1s to 24h.
	// Defaults to interval (at most 24h).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || (duration(self) >= duration('1s') && duration(self) <= duration('24h'))",message="retryInterval must be from 1s to 24h"
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Timeout of apply and health checks, from 1s to 1h. Defaults to
	// interval (at most 1h).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || (duration(self) >= duration('1s') && duration(self) <= duration('1h'))",message="timeout must be from 1s to 1h"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Prune deletes objects that left the rendered set.
	// +required
	Prune bool `json:"prune"`

	// MaxPrunePercent caps the share of the inventory one reconcile may
	// prune, when the inventory holds at least 10 objects; above it nothing
	// is pruned and the Stack is Stalled until the cap is raised. 100 turns
	// the cap off.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=50
	// +optional
	MaxPrunePercent int `json:"maxPrunePercent,omitempty"`

	// AllowEmpty lets a render with no objects prune the whole inventory.
	// Without it an empty render is an error and nothing is pruned, so a
	// broken path or a bad commit cannot wipe a cluster.
	// +optional
	AllowEmpty bool `json:"allowEmpty,omitempty"`

	// Wait for every applied object to become ready (kstatus).
	// +optional
	Wait bool `json:"wait,omitempty"`

	// HealthChecks lists the objects whose health decides Ready, when wait is off.
	// +optional
	HealthChecks []ObjectReference `json:"healthChecks,omitempty"`

	// DependsOn lists Stacks that must be Ready at their latest revision first.
	// +optional
	DependsOn []DependencyReference `json:"dependsOn,omitempty"`

	// TargetNamespace sets the namespace of every namespaced object.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// CommonMetadata is added to every object.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// Patches are strategic-merge or JSON6902 patches applied after the build.
	// +optional
	Patches []Patch `json:"patches,omitempty"`

	// Images override image names, tags and digests.
	// +optional
	Images []Image `json:"images,omitempty"`

	// PostBuild substitutes ${var} references after the build.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Decryption decrypts SOPS-encrypted files of the source before the
	// build, with the keys of a Secret in the Stack's namespace.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Force recreates an object when a change touches an immutable field.
	// +optional
	Force bool `json:"force,omitempty"`

	// ServiceAccountName in the Stack's namespace to impersonate for dry-run and apply.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Suspend stops reconciling; what is applied stays as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Drift says what to do when someone changes a field this Stack applied,
	// or deletes an object it owns: correct (re-apply at once), report
	// (record it, change nothing) or ignore.
	// +kubebuilder:validation:Enum=correct;report;ignore
	// +kubebuilder:default=correct
	// +optional
	Drift DriftPolicy `json:"drift,omitempty"`
}

// DriftPolicy is what a Stack does about drift.
type DriftPolicy string

// Drift policies.
const (
	DriftCorrect DriftPolicy = "correct"
	DriftReport  DriftPolicy = "report"
	DriftIgnore  DriftPolicy = "ignore"
)

// DriftIgnoreAnnotation set to "ignore" on one object leaves its drift alone.
const DriftIgnoreAnnotation = "flotilla.io/drift"

// DriftRecord is one change to an applied object made outside Flotilla.
type DriftRecord struct {
	// Object is Kind/namespace/name of the object.
	Object string `json:"object"`
	// Fields are the paths that changed, e.g. .spec.replicas.
	// +optional
	Fields []string `json:"fields,omitempty"`
	// Manager is the field manager that made the change, from managedFields
	// ("" when the object was deleted: deletions carry no manager).
	// +optional
	Manager string `json:"manager,omitempty"`
	// Action is what Flotilla did: corrected, recreated or reported.
	Action string `json:"action"`
	// Time the drift was seen.
	Time metav1.Time `json:"time"`
}

// SourceReference points at a source object.
type SourceReference struct {
	// Kind of the source.
	// +kubebuilder:validation:Enum=GitRepository
	// +required
	Kind string `json:"kind"`

	// Name of the source.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the source; defaults to the Stack's.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// DependencyReference names another Stack.
type DependencyReference struct {
	// Name of the Stack.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`

	// Namespace of the Stack; defaults to this Stack's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// ObjectReference names one Kubernetes object.
type ObjectReference struct {
	// APIVersion of the object, e.g. apps/v1.
	// +required
	APIVersion string `json:"apiVersion"`
	// Kind of the object.
	// +required
	Kind string `json:"kind"`
	// Name of the object.
	// +required
	Name string `json:"name"`
	// Namespace of the object, for namespaced kinds.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// CommonMetadata holds labels and annotations for every applied object.
type CommonMetadata struct {
	// Labels to add.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations to add.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Patch is an inline patch and the objects it targets.
type Patch struct {
	// Patch is a strategic merge patch or a JSON6902 patch, in YAML.
	// +kubebuilder:validation:MinLength=1
	// +required
	Patch string `json:"patch"`
	// Target selects the objects to patch; without it the patch names its target.
	// +optional
	Target *PatchSelector `json:"target,omitempty"`
}

// PatchSelector selects objects as Kustomize does.
type PatchSelector struct {
	// Group of the objects.
	// +optional
	Group string `json:"group,omitempty"`
	// Version of the objects.
	// +optional
	Version string `json:"version,omitempty"`
	// Kind of the objects.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name of the objects, a regular expression.
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace of the objects, a regular expression.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// LabelSelector the objects match.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// AnnotationSelector the objects match.
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// Image overrides one container image.
type Image struct {
	// Name of the image to override, as written in the manifests.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`
	// NewName replaces the image name.
	// +optional
	NewName string `json:"newName,omitempty"`
	// NewTag replaces the tag.
	// +optional
	NewTag string `json:"newTag,omitempty"`
	// Digest replaces the tag with a digest.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// PostBuild configures ${var} substitution after the build.
type PostBuild struct {
	// Substitute maps variable names to values.
	// +optional
	Substitute map[string]string `json:"substitute,omitempty"`
	// SubstituteFrom reads variables from ConfigMaps and Secrets in the Stack's namespace.
	// +optional
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`
}

// SubstituteReference names a ConfigMap or Secret holding variables.
type SubstituteReference struct {
	// Kind is ConfigMap or Secret.
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	// +required
	Kind string `json:"kind"`
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +required
	Name string `json:"name"`
	// Optional lets the reconcile go on when the object does not exist.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// InventoryEntry identifies one object a Stack owns.
type InventoryEntry struct {
	// Group of the object, empty for the core group.
	// +optional
	Group string `json:"group,omitempty"`
	// Version of the object's API.
	Version string `json:"version"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object, empty for cluster-scoped kinds.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
}

// ChangeSummary counts what the last apply did.
type ChangeSummary struct {
	// Created objects.
	Created int `json:"created"`
	// Configured objects, changed by the apply.
	Configured int `json:"configured"`
	// Unchanged objects.
	Unchanged int `json:"unchanged"`
	// Deleted objects, pruned.
	Deleted int `json:"deleted"`
}

// StackStatus is what the agent observed.
type StackStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the source revision last applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the last attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory is every object the Stack owns.
	// +optional
	Inventory []InventoryEntry `json:"inventory,omitempty"`

	// LastChange summarises the last apply.
	// +optional
	LastChange *ChangeSummary `json:"lastChange,omitempty"`

	// Drift lists the most recent changes made outside Flotilla, newest first.
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Drift []DriftRecord `json:"drift,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// DriftWatchCondition is False on a Stack when some of its applied objects
// cannot be watched for drift (its identity may not list and watch their
// kind there); it is absent when every object is watched.
const DriftWatchCondition = "DriftWatch"

// Reasons specific to Stacks.
const (
	// ReasonDependencyNotReady means a Stack of dependsOn is not Ready yet.
	ReasonDependencyNotReady = "DependencyNotReady"
	// ReasonDependencyCycle means dependsOn forms a cycle.
	ReasonDependencyCycle = "DependencyCycle"
	// ReasonSourceNotReady means the source has no artifact yet.
	ReasonSourceNotReady = "SourceNotReady"
	// ReasonBuildFailed means the render failed; nothing was applied.
	ReasonBuildFailed = "BuildFailed"
	// ReasonValidationFailed means the server-side dry-run refused objects; nothing was applied.
	ReasonValidationFailed = "ValidationFailed"
	// ReasonAPIServerUnavailable means the API server could not answer the
	// server-side dry-run (a 503, a timeout, a lost connection): nothing was
	// found wrong with the objects, nothing was applied, and it is retried.
	ReasonAPIServerUnavailable = "APIServerUnavailable"
	// ReasonApplyFailed means an apply request failed part-way.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonPruneFailed means some stale objects could not be deleted.
	ReasonPruneFailed = "PruneFailed"
	// ReasonHealthCheckFailed means objects did not become ready in time.
	ReasonHealthCheckFailed = "HealthCheckFailed"
	// ReasonVariablesNotFound means a postBuild.substituteFrom object is missing.
	ReasonVariablesNotFound = "VariablesNotFound"
	// ReasonWatchForbidden means RBAC does not let the Stack's identity list
	// and watch a kind it applied, so hand edits to it are not seen at once.
	ReasonWatchForbidden = "WatchForbidden"
	// ReasonWatchFailed means the drift watch could not be set up for
	// another reason (an access review or impersonation failed).
	ReasonWatchFailed = "WatchFailed"
)

// Stack renders a path of a source with Kustomize and applies it server-side.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=st,categories=flotilla
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Stack struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   StackSpec   `json:"spec,omitempty"`
	Status StackStatus `json:"status,omitempty"`
}

// StackList is a list of Stack objects.
//
// +kubebuilder:object:root=true
type StackList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Stack `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Stack{}, &StackList{})
}

// GetConditions returns the status conditions.
func (in *Stack) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Stack) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// SourceKey returns the namespace and name of the source.
func (in *Stack) SourceKey() (namespace, name string) {
	ns := in.Spec.SourceRef.Namespace
	if ns == "" {
		ns = in.Namespace
	}
	return ns, in.Spec.SourceRef.Name
}

// Bounds of a Stack's durations, enforced by the CRD and again here for
// objects stored before the CRD had them.
const (
	MinRetryInterval = time.Second
	MaxRetryInterval = 24 * time.Hour
	MinApplyTimeout  = time.Second
	MaxApplyTimeout  = time.Hour
)

// RetryAfter returns how long to wait after a failure: retryInterval, else
// interval, within [MinRetryInterval, MaxRetryInterval] (a retry interval
// of 1ms would be a hot loop, and one of 0s would never retry).
func (in *Stack) RetryAfter() time.Duration {
	d := in.Spec.Interval.Duration
	if in.Spec.RetryInterval != nil {
		d = in.Spec.RetryInterval.Duration
	}
	return min(max(d, MinRetryInterval), MaxRetryInterval)
}

// ApplyTimeout returns the limit of apply and health checks: timeout, else
// interval, within [MinApplyTimeout, MaxApplyTimeout].
func (in *Stack) ApplyTimeout() time.Duration {
	d := in.Spec.Interval.Duration
	if in.Spec.Timeout != nil {
		d = in.Spec.Timeout.Duration
	}
	return min(max(d, MinApplyTimeout), MaxApplyTimeout)
}

package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageRepositoryKind is the kind of ImageRepository objects.
const ImageRepositoryKind = "ImageRepository"

// DefaultExclusionList is the exclusion list of an ImageRepository that sets
// none: signatures (cosign's .sig tags) are never candidates.
var DefaultExclusionList = []string{`^.*\.sig$`}

// Reasons of the image kinds' conditions.
const (
	// ReasonTooManyTags means a scan found more tags than spec.maxTags.
	ReasonTooManyTags = "TooManyTags"
	// ReasonRegistryUnreachable means the registry did not answer.
	ReasonRegistryUnreachable = "RegistryUnreachable"
	// ReasonImageNotFound means the registry has no such repository.
	ReasonImageNotFound = "ImageNotFound"
	// ReasonScanFailed means the registry answered a scan with an error.
	ReasonScanFailed = "ScanFailed"
	// ReasonImageRepositoryNotReady means an ImagePolicy's repository has
	// no scan to choose from yet.
	ReasonImageRepositoryNotReady = "ImageRepositoryNotReady"
	// ReasonNoMatchingTag means no tag of the scan is a candidate of the
	// policy.
	ReasonNoMatchingTag = "NoMatchingTag"
)

// DefaultMaxTags bounds the tags an ImageRepository keeps when it sets no
// maxTags.
const DefaultMaxTags = 10000

// ImageRepositorySpec says which image's tags to scan and how to reach its
// registry. Field names follow Flux's image-reflector-controller.
type ImageRepositorySpec struct {
	// Image is the repository to scan, without tag or digest, for example
	// ghcr.io/example/app or registry.example.com:5000/team/app.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^[^@:/\s]+(:[0-9]+)?(/[^@:\s]+)*$`
	// +required
	Image string `json:"image"`

	// Interval between two scans.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')",message="interval must be at least 1s"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of one scan. Defaults to the interval, at most 10m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) <= duration('1h')",message="timeout must be at most 1h"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a kubernetes.io/dockerconfigjson Secret in the same
	// namespace with the registry's credentials.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName names a ServiceAccount whose imagePullSecrets are
	// used as credentials (after secretRef).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with ca.crt (a private CA) and optionally
	// tls.crt and tls.key (a client certificate).
	// +optional
	CertSecretRef *LocalObjectReference `json:"certSecretRef,omitempty"`

	// Insecure allows plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// ExclusionList holds regular expressions; a tag matching any of them is
	// left out. Defaults to ["^.*\\.sig$"].
	// +kubebuilder:validation:MaxItems=25
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// MaxTags bounds the tags kept from one scan; a repository with more is
	// not Ready (TooManyTags) until the exclusion list or the bound changes.
	// Defaults to 10000.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	// +optional
	MaxTags *int32 `json:"maxTags,omitempty"`

	// Suspend stops scanning; the last scan stays in use.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ScanResult summarises the last successful scan.
type ScanResult struct {
	// Revision is a digest of the tag list, sha256:<hex>; it changes when
	// the tags do.
	// +optional
	Revision string `json:"revision,omitempty"`

	// TagCount is the number of tags kept after the exclusion list.
	TagCount int `json:"tagCount"`

	// ScanTime is when the scan finished.
	// +optional
	ScanTime metav1.Time `json:"scanTime,omitempty"`

	// LatestTags are up to ten tags, newest first by name, for a glance.
	// +optional
	LatestTags []string `json:"latestTags,omitempty"`
}

// ImageRepositoryStatus is what the agent observed.
type ImageRepositoryStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// CanonicalImageName is the image in its full form, for example
	// index.docker.io/library/nginx.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`

	// LastScanResult is the last successful scan; it is kept while the
	// registry cannot be reached.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`

	// ObservedExclusionList is the exclusion list of the last scan.
	// +optional
	ObservedExclusionList []string `json:"observedExclusionList,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// ImageRepository scans a container registry for an image's tags on an
// interval, for ImagePolicies to choose from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgrepo,categories=flotilla
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Tags",type=integer,JSONPath=`.status.lastScanResult.tagCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Last scan",type=date,JSONPath=`.status.lastScanResult.scanTime`
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageRepositorySpec   `json:"spec,omitempty"`
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// ImageRepositoryList is a list of ImageRepository objects.
//
// +kubebuilder:object:root=true
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageRepository `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageRepository{}, &ImageRepositoryList{})
}

// GetConditions returns the status conditions.
func (in *ImageRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ImageRepository) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// ScanTimeout returns the timeout of one scan: spec.timeout, else the
// interval, at most ten minutes.
func (in *ImageRepository) ScanTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	return min(in.Spec.Interval.Duration, 10*time.Minute)
}

// EffectiveExclusionList returns spec.exclusionList, or the default.
func (in *ImageRepository) EffectiveExclusionList() []string {
	if len(in.Spec.ExclusionList) == 0 {
		return DefaultExclusionList
	}
	return in.Spec.ExclusionList
}

// EffectiveMaxTags returns spec.maxTags, or the default.
func (in *ImageRepository) EffectiveMaxTags() int {
	if in.Spec.MaxTags == nil {
		return DefaultMaxTags
	}
	return int(*in.Spec.MaxTags)
}

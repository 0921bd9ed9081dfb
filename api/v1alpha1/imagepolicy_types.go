package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImagePolicyKind is the kind of ImagePolicy objects.
const ImagePolicyKind = "ImagePolicy"

// ImagePolicySpec says how to choose the newest tag of an ImageRepository.
// Field names follow Flux's image-reflector-controller.
type ImagePolicySpec struct {
	// ImageRepositoryRef names the ImageRepository whose tags are chosen from,
	// in the same namespace.
	// +required
	ImageRepositoryRef LocalObjectReference `json:"imageRepositoryRef"`

	// Policy orders the tags; the first in that order wins.
	// +required
	Policy ImagePolicyChoice `json:"policy"`

	// FilterTags keeps only the tags matching a pattern, and can extract the
	// part of the tag that the policy orders.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`

	// DigestReflectionPolicy says when the chosen tag's digest is looked up
	// and recorded in status.latestRef.digest: Never (the default),
	// IfNotPresent (once per tag), or Always (on every scan, so a moved tag
	// is followed).
	// +kubebuilder:validation:Enum=Never;IfNotPresent;Always
	// +kubebuilder:default=Never
	// +optional
	DigestReflectionPolicy ReflectionPolicy `json:"digestReflectionPolicy,omitempty"`
}

// ReflectionPolicy says when a tag's digest is looked up.
type ReflectionPolicy string

// Digest reflection policies.
const (
	// ReflectNever never looks up digests.
	ReflectNever ReflectionPolicy = "Never"
	// ReflectIfNotPresent looks a digest up once for each chosen tag.
	ReflectIfNotPresent ReflectionPolicy = "IfNotPresent"
	// ReflectAlways looks the digest up on every reconcile.
	ReflectAlways ReflectionPolicy = "Always"
)

// ImagePolicyChoice holds exactly one ordering of tags.
// +kubebuilder:validation:XValidation:rule="(has(self.semver) ? 1 : 0) + (has(self.alphabetical) ? 1 : 0) + (has(self.numerical) ? 1 : 0) == 1",message="set exactly one of semver, alphabetical, numerical"
type ImagePolicyChoice struct {
	// SemVer chooses the highest version within a range.
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`

	// Alphabetical chooses the last tag in lexical order (or the first, with
	// order: desc).
	// +optional
	Alphabetical *AlphabeticalPolicy `json:"alphabetical,omitempty"`

	// Numerical chooses the highest number (or the lowest, with order: desc).
	// +optional
	Numerical *NumericalPolicy `json:"numerical,omitempty"`
}

// SemVerPolicy chooses the highest semantic version in a range.
type SemVerPolicy struct {
	// Range is a semver constraint, for example ">=1.0.0 <2.0.0" or "1.x".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +required
	Range string `json:"range"`
}

// SortOrder is the direction of an alphabetical or numerical policy.
// +kubebuilder:validation:Enum=asc;desc
type SortOrder string

// Sort orders. As in Flux, asc chooses the last (highest) value and desc the
// first (lowest).
const (
	// SortAscending chooses the highest value.
	SortAscending SortOrder = "asc"
	// SortDescending chooses the lowest value.
	SortDescending SortOrder = "desc"
)

// AlphabeticalPolicy orders tags by their bytes.
type AlphabeticalPolicy struct {
	// Order is asc (the default: the last tag wins) or desc.
	// +kubebuilder:default=asc
	// +optional
	Order SortOrder `json:"order,omitempty"`
}

// NumericalPolicy orders tags as numbers.
type NumericalPolicy struct {
	// Order is asc (the default: the highest number wins) or desc.
	// +kubebuilder:default=asc
	// +optional
	Order SortOrder `json:"order,omitempty"`
}

// TagFilter keeps the tags matching a regular expression.
type TagFilter struct {
	// Pattern is a regular expression (Go syntax, RE2) a tag must match.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Pattern string `json:"pattern,omitempty"`

	// Extract is the replacement template, such as "$ts", whose expansion
	// the policy orders instead of the whole tag.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Extract string `json:"extract,omitempty"`
}

// ImageRef is a chosen image.
type ImageRef struct {
	// Name is the image's repository, without tag.
	Name string `json:"name"`

	// Tag is the chosen tag.
	Tag string `json:"tag"`

	// Digest is the tag's manifest digest, when digest reflection is on.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// String returns name:tag, with @digest when there is one.
func (r ImageRef) String() string {
	s := r.Name + ":" + r.Tag
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ImagePolicyStatus is what the agent chose.
type ImagePolicyStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LatestRef is the chosen image. It never moves to an older tag after a
	// restart or an empty scan; only a change of the policy can do that.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`

	// ObservedPreviousRef is the image chosen before LatestRef.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`

	// PolicyDigest identifies the policy (policy, filterTags and repository)
	// that chose LatestRef: when it changes, the choice may move backwards.
	// +optional
	PolicyDigest string `json:"policyDigest,omitempty"`

	// Explanation says how LatestRef was chosen from the repository's last
	// scan: what `flotilla get images --explain` shows.
	// +optional
	Explanation *PolicyExplanation `json:"explanation,omitempty"`

	ReconcileRequestStatus `json:",inline"`

	// QuarantinedTags are tags a failed Canary refused. The policy never
	// chooses them, and moves back to the best remaining tag when it had
	// chosen one (the only way a choice moves backwards under the same
	// policy). A newer tag is chosen as usual; `flotilla reconcile image
	// policy NAME --clear-quarantine` empties the list. The oldest entries
	// are dropped beyond MaxQuarantinedTags.
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	QuarantinedTags []QuarantinedTag `json:"quarantinedTags,omitempty"`
}

// MaxQuarantinedTags is how many quarantined tags an ImagePolicy keeps.
const MaxQuarantinedTags = 20

// QuarantinedTag is a tag a failed Canary refused.
type QuarantinedTag struct {
	// Tag that failed.
	Tag string `json:"tag"`
	// Reason the Canary gave, in words.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Canary that refused it, namespace/name.
	Canary string `json:"canary"`
	// Time of the quarantine.
	Time metav1.Time `json:"time"`
}

// PolicyExplanation is how a policy chose among the tags of one scan.
type PolicyExplanation struct {
	// Policy describes the ordering, such as "semver range >=1.0.0".
	Policy string `json:"policy"`

	// ScanRevision is the ImageRepository scan chosen from.
	// +optional
	ScanRevision string `json:"scanRevision,omitempty"`

	// Considered is the number of tags of that scan.
	Considered int `json:"considered"`

	// CandidateCount is the number of tags the policy could choose.
	CandidateCount int `json:"candidateCount"`

	// TopCandidates are up to ten candidates, best first.
	// +optional
	TopCandidates []string `json:"topCandidates,omitempty"`

	// Excluded counts the tags left out, by reason, with a few examples.
	// +optional
	Excluded []ExcludedTags `json:"excluded,omitempty"`

	// Why says why LatestRef is what it is, in one sentence.
	Why string `json:"why"`
}

// ExcludedTags are tags a policy left out for one reason.
type ExcludedTags struct {
	// Reason, such as "outside the range ^1.0" or "not a semantic version".
	Reason string `json:"reason"`
	// Count of tags left out for it.
	Count int `json:"count"`
	// Examples are up to three of them.
	// +optional
	Examples []string `json:"examples,omitempty"`
}

// ImagePolicy chooses the newest tag of an ImageRepository by a policy
// (semver, alphabetical or numerical), for ImageUpdates to write into Git.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgpol,categories=flotilla
// +kubebuilder:printcolumn:name="Latest",type=string,JSONPath=`.status.latestRef.tag`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImagePolicySpec   `json:"spec,omitempty"`
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// ImagePolicyList is a list of ImagePolicy objects.
//
// +kubebuilder:object:root=true
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImagePolicy{}, &ImagePolicyList{})
}

// GetConditions returns the status conditions.
func (in *ImagePolicy) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ImagePolicy) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

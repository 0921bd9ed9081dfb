package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitRepositoryKind is the kind of GitRepository objects.
const GitRepositoryKind = "GitRepository"

// GitRepositorySpec says where to pull desired state from.
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !self.url.startsWith('file://')",message="secretRef cannot be used with a file:// url: local repositories take no credentials"
type GitRepositorySpec struct {
	// URL of the repository: https://, http://, ssh:// or file://.
	// Credentials never belong in the URL; put them in the Secret named by secretRef.
	// +kubebuilder:validation:Pattern=`^(https?|ssh|file)://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="!self.matches('^https?://[^/]*@')",message="the url must not carry credentials: store them in the Secret named by secretRef"
	// +required
	URL string `json:"url"`

	// Ref selects what to check out. When several fields are set, the first of
	// commit, semver, tag, branch wins. Defaults to the branch "main".
	// +optional
	Ref *GitRepositoryRef `json:"ref,omitempty"`

	// Interval between two fetches.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')",message="interval must be at least 1s"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of one fetch, including ref resolution, from 1s to 1h.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || (duration(self) >= duration('1s') && duration(self) <= duration('1h'))",message="timeout must be from 1s to 1h"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in the same namespace with the credentials:
	// username and password (or bearerToken) for https, identity and
	// known_hosts (and an optional password for the key) for ssh, and ca.crt
	// for a server signed by a private CA.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Ignore holds extra gitignore-style patterns of files left out of the
	// artifact, in addition to those of a .flotillaignore file.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops fetching; the last artifact stays in use.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// GitRepositoryRef selects a revision. Precedence: commit, then semver, then
// tag, then branch.
type GitRepositoryRef struct {
	// Branch to follow.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer is a range; the newest tag that is a version in it is checked out.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Commit is a full SHA-1 to check out. With a branch it is looked up in
	// that branch's history, otherwise in every branch.
	// +kubebuilder:validation:Pattern="^[0-9a-f]{40}$"
	// +optional
	Commit string `json:"commit,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// Artifact is the tree of one revision, stored by the agent.
type Artifact struct {
	// Revision in the form <ref>@sha1:<commit>, for example main@sha1:0a1b....
	Revision string `json:"revision"`

	// Digest of the stored tree, sha256:<hex>.
	Digest string `json:"digest"`

	// Path of the artifact relative to the agent's data directory.
	Path string `json:"path"`

	// Size in bytes of the stored files.
	// +optional
	Size int64 `json:"size,omitempty"`

	// LastUpdateTime is when this artifact was stored.
	LastUpdateTime metav1.Time `json:"lastUpdateTime"`
}

// GitRepositoryStatus is what the agent observed.
type GitRepositoryStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact is the last good revision, kept while fetches fail.
	// +optional
	Artifact *Artifact `json:"artifact,omitempty"`

	// URL is the repository URL without credentials or query.
	// +optional
	URL string `json:"url,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// GitRepository is a Git repository the agent fetches on an interval and
// stores as an artifact for Stacks to render.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gitrepo;gr,categories=flotilla
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.artifact.revision`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GitRepositorySpec   `json:"spec,omitempty"`
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// GitRepositoryList is a list of GitRepository objects.
//
// +kubebuilder:object:root=true
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GitRepository{}, &GitRepositoryList{})
}

// GetConditions returns the status conditions.
func (in *GitRepository) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *GitRepository) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// EffectiveRef returns the ref to check out, defaulting to the branch main.
func (in *GitRepository) EffectiveRef() GitRepositoryRef {
	if in.Spec.Ref == nil || (*in.Spec.Ref == GitRepositoryRef{}) {
		return GitRepositoryRef{Branch: "main"}
	}
	return *in.Spec.Ref
}

// FetchTimeout returns the timeout of one fetch, within [1s, 1h] also for
// objects stored before the CRD bounded it.
func (in *GitRepository) FetchTimeout() metav1.Duration {
	if in.Spec.Timeout == nil {
		return metav1.Duration{Duration: defaultTimeout}
	}
	return metav1.Duration{Duration: min(max(in.Spec.Timeout.Duration, time.Second), time.Hour)}
}

const defaultTimeout = 60 * time.Second

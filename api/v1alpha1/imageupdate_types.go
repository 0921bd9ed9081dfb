package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageUpdateKind is the kind of ImageUpdate objects.
const ImageUpdateKind = "ImageUpdate"

// ImageUpdateSpec says where in Git to write the images ImagePolicies
// chose, and how to commit and push. Field names follow Flux's
// ImageUpdateAutomation.
type ImageUpdateSpec struct {
	// SourceRef names the GitRepository to write to: its URL and credentials
	// are used to clone and push.
	// +required
	SourceRef SourceReference `json:"sourceRef"`

	// Git says what to check out, how to commit and where to push.
	// +required
	Git GitUpdateSpec `json:"git"`

	// Update says which files to rewrite and how.
	// +kubebuilder:default={strategy: Setters}
	// +optional
	Update *UpdateStrategy `json:"update,omitempty"`

	// PolicySelector selects the ImagePolicies (in this namespace) whose
	// choices are written; empty selects all of them.
	// +optional
	PolicySelector *metav1.LabelSelector `json:"policySelector,omitempty"`

	// Interval between two runs (clone, update, commit, push).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')",message="interval must be at least 1s"
	// +required
	Interval metav1.Duration `json:"interval"`

	// Batch gathers the changes of several policies into one commit.
	// +optional
	Batch *BatchSpec `json:"batch,omitempty"`

	// Suspend stops writing to Git.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// GitUpdateSpec is the Git side of an ImageUpdate.
type GitUpdateSpec struct {
	// Checkout says what to check out; defaults to the GitRepository's ref.
	// +optional
	Checkout *GitCheckoutSpec `json:"checkout,omitempty"`

	// Commit says how to write the commit.
	// +required
	Commit CommitSpec `json:"commit"`

	// Push says where to push; defaults to the checked-out branch.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// GitCheckoutSpec selects the branch to start from.
type GitCheckoutSpec struct {
	// Ref is the reference to check out; only a branch can be written to.
	// +required
	Ref GitRepositoryRef `json:"ref"`
}

// CommitSpec says how a commit is written.
type CommitSpec struct {
	// Author of the commits.
	// +required
	Author CommitUser `json:"author"`

	// SigningKey names a Secret with an armored OpenPGP private key
	// (git.asc) and optionally its passphrase (passphrase) to sign commits.
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`

	// MessageTemplate is a Go text/template for the commit message, with
	// Flux's data: .AutomationObject, .Changed.FileChanges,
	// .Changed.Objects, .Changed.Changes and .Values. It runs hermetically:
	// no environment, files or network.
	// +kubebuilder:validation:MaxLength=16384
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`

	// MessageTemplateValues are the template's .Values.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	MessageTemplateValues map[string]string `json:"messageTemplateValues,omitempty"`
}

// CommitUser is a commit's author.
type CommitUser struct {
	// Name of the author.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	Name string `json:"name"`

	// Email of the author.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	Email string `json:"email"`
}

// SigningKey references the key commits are signed with.
type SigningKey struct {
	// SecretRef names a Secret in the same namespace.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// PushSpec says where commits go.
type PushSpec struct {
	// Branch to push to; when it differs from the checked-out branch, it is
	// created from it (and rewritten on each run).
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Branch string `json:"branch,omitempty"`

	// Refspec is pushed in addition to (or instead of) branch, for example
	// refs/heads/main:refs/heads/auto/images.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Refspec string `json:"refspec,omitempty"`

	// Options are Git push options (-o key=value).
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Options map[string]string `json:"options,omitempty"`

	// PullRequest opens (and updates in place) a pull request from the push
	// branch into the checked-out branch, instead of pushing to it directly.
	// +optional
	PullRequest *PullRequestSpec `json:"pullRequest,omitempty"`
}

// PullRequestSpec says which forge to open pull requests on.
type PullRequestSpec struct {
	// Provider is the forge: github, gitlab or gitea.
	// +kubebuilder:validation:Enum=github;gitlab;gitea
	// +required
	Provider string `json:"provider"`

	// Address is the forge's API root, for example https://api.github.com,
	// https://gitlab.example.com/api/v4 or https://gitea.example.com/api/v1.
	// Defaults to the public forge's for github and gitlab.
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Repository is owner/name (or the GitLab project path); defaults to the
	// path of the GitRepository's URL.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Repository string `json:"repository,omitempty"`

	// SecretRef names a Secret with the API token under the key token.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`

	// Title of the pull request; defaults to the commit's first line.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Title string `json:"title,omitempty"`
}

// UpdateStrategy says how files are rewritten.
type UpdateStrategy struct {
	// Strategy is Setters: the values marked with
	// # {"$imagepolicy": "NAMESPACE:NAME[:tag|:name|:digest]"} comments.
	// +kubebuilder:validation:Enum=Setters
	// +kubebuilder:default=Setters
	// +optional
	Strategy string `json:"strategy,omitempty"`

	// Path inside the repository to rewrite; defaults to its root. It cannot
	// leave the repository.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="path must be relative to the repository root and must not contain '..'"
	// +optional
	Path string `json:"path,omitempty"`
}

// BatchSpec gathers changes before committing.
type BatchSpec struct {
	// Window is how long to wait after the first change for others to join
	// the same commit, for example 2m.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+([.][0-9]+)?(ms|s|m|h))+$') || duration(self) <= duration('24h')",message="window must be at most 24h"
	// +required
	Window metav1.Duration `json:"window"`
}

// ImageUpdateStatus is what the agent wrote.
type ImageUpdateStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAutomationRunTime is when the last run finished.
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`

	// LastPushCommit is the SHA of the last commit pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`

	// LastPushTime is when it was pushed.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`

	// ObservedPolicies are the policies' choices the last run saw, by
	// policy name.
	// +optional
	ObservedPolicies map[string]ImageRef `json:"observedPolicies,omitempty"`

	// ObservedSourceRevision is the branch and commit the last run started
	// from, in the form <branch>@sha1:<commit>.
	// +optional
	ObservedSourceRevision string `json:"observedSourceRevision,omitempty"`

	// PendingSince is when the first change of a batch still waiting was
	// seen.
	// +optional
	PendingSince *metav1.Time `json:"pendingSince,omitempty"`

	// PullRequestURL is the pull request the last run opened or updated.
	// +optional
	PullRequestURL string `json:"pullRequestURL,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// ImageUpdate writes the images that ImagePolicies chose into marked fields
// of files in Git, and commits and pushes the change (or opens a pull
// request).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=imgupd,categories=flotilla
// +kubebuilder:printcolumn:name="Last push",type=string,JSONPath=`.status.lastPushCommit`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageUpdate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageUpdateSpec   `json:"spec,omitempty"`
	Status ImageUpdateStatus `json:"status,omitempty"`
}

// ImageUpdateList is a list of ImageUpdate objects.
//
// +kubebuilder:object:root=true
type ImageUpdateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageUpdate{}, &ImageUpdateList{})
}

// GetConditions returns the status conditions.
func (in *ImageUpdate) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ImageUpdate) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// UpdatePath returns spec.update.path, or "" for the repository's root.
func (in *ImageUpdate) UpdatePath() string {
	if in.Spec.Update == nil {
		return ""
	}
	return in.Spec.Update.Path
}

package v1alpha1

// Condition types every Flotilla object reports. They follow the Kubernetes
// conventions that kstatus understands: Ready is the summary, Reconciling is
// True while work is under way, Stalled is True when only a change of spec (or
// of something the spec references) can make progress.
const (
	// ReadyCondition is True when the last reconcile succeeded.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while a reconcile is in progress.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when the object cannot progress without a change.
	StalledCondition = "Stalled"
)

// Reasons set on conditions. They are stable identifiers that scripts may
// match; the human explanation is in the condition's message.
const (
	// ReasonSucceeded means the reconcile finished and the object is up to date.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing means a reconcile is under way.
	ReasonProgressing = "Progressing"
	// ReasonSuspended means the object is suspended and is not reconciled.
	ReasonSuspended = "Suspended"
	// ReasonAuthenticationFailed means credentials were missing or refused.
	ReasonAuthenticationFailed = "AuthenticationFailed"
	// ReasonGitOperationFailed means a fetch from the Git server failed.
	ReasonGitOperationFailed = "GitOperationFailed"
	// ReasonRefNotFound means the branch, tag, semver range or commit has no match.
	ReasonRefNotFound = "RefNotFound"
	// ReasonArtifactFailed means the fetched tree could not be stored.
	ReasonArtifactFailed = "ArtifactFailed"
	// ReasonInvalidSpec means the spec cannot work as written.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonSecretNotFound means a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonAccessDenied means the agent's settings refuse what the spec
	// asks for (a file:// URL, a reference across namespaces).
	ReasonAccessDenied = "AccessDenied"
)

// Annotations that users and the CLI set on Flotilla objects.
const (
	// ReconcileRequestAnnotation asks for a reconcile now; any new value does.
	// The handled value is echoed in status.lastHandledReconcileAt.
	ReconcileRequestAnnotation = "flotilla.io/reconcile-requested-at"
)

// FinalizerName is the finalizer Flotilla puts on the objects it must clean up after.
const FinalizerName = "flotilla.io/finalizer"

// ReconcileRequestStatus records the last reconcile request that was handled.
type ReconcileRequestStatus struct {
	// LastHandledReconcileAt is the value of the reconcile-requested-at
	// annotation that the last finished reconcile saw.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kinds of the notification objects.
const (
	// ProviderKind is the kind of Provider objects.
	ProviderKind = "Provider"
	// AlertKind is the kind of Alert objects.
	AlertKind = "Alert"
	// ReceiverKind is the kind of Receiver objects.
	ReceiverKind = "Receiver"
)

// Provider types: chat services, plain webhooks and Git forges' commit statuses.
const (
	ProviderSlack       = "slack"
	ProviderMSTeams     = "msteams"
	ProviderDiscord     = "discord"
	ProviderGeneric     = "generic"
	ProviderGenericHMAC = "generic-hmac"
	ProviderGitHub      = "github"
	ProviderGitLab      = "gitlab"
	ProviderGitea       = "gitea"
)

// Receiver types: how an incoming webhook proves who sent it.
const (
	ReceiverGeneric     = "generic"
	ReceiverGenericHMAC = "generic-hmac"
	ReceiverGitHub      = "github"
	ReceiverGitLab      = "gitlab"
)

// Event severities an Alert selects.
const (
	// EventSeverityInfo selects every event, and resolved messages.
	EventSeverityInfo = "info"
	// EventSeverityError selects failures (Warning events) and the resolved
	// message of each failure episode.
	EventSeverityError = "error"
)

// Reasons of the notification objects' conditions.
const (
	// ReasonProviderNotFound means an Alert's providerRef names no Provider.
	ReasonProviderNotFound = "ProviderNotFound"
)

// ProviderSpec says where notifications go. The field names are Flux's.
// +kubebuilder:validation:XValidation:rule="!(self.type in ['generic-hmac', 'github', 'gitlab', 'gitea']) || has(self.secretRef)",message="this provider type needs a secretRef with a token key"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['github', 'gitlab', 'gitea']) || has(self.address)",message="a commit status provider needs address: the repository's URL, like https://github.com/org/repo"
// +kubebuilder:validation:XValidation:rule="has(self.address) || has(self.secretRef)",message="set address, or a secretRef whose Secret has an address key"
type ProviderSpec struct {
	// Type of the service: slack, msteams, discord, generic, generic-hmac,
	// github, gitlab or gitea.
	// +kubebuilder:validation:Enum=slack;msteams;discord;generic;generic-hmac;github;gitlab;gitea
	// +required
	Type string `json:"type"`

	// Address is the webhook URL (chat services, generic) or the
	// repository's URL (commit status providers). A webhook URL is a
	// credential: prefer the address key of the Secret named by secretRef,
	// which takes precedence.
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Channel overrides the webhook's channel (Slack).
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Channel string `json:"channel,omitempty"`

	// Username overrides the name messages are posted as (Slack, Discord).
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Username string `json:"username,omitempty"`

	// SecretRef names a Secret in the same namespace with the keys address
	// (the webhook URL) and token (the HMAC key of generic-hmac, the API
	// token of a forge).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret in the same namespace whose ca.crt key
	// holds the CA that signs the service's certificate.
	// +optional
	CertSecretRef *LocalObjectReference `json:"certSecretRef,omitempty"`

	// Timeout of one delivery attempt. Defaults to 15s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Suspend stops deliveries through this Provider; messages for it are dropped.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ProviderStatus is what the agent observed.
type ProviderStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// Provider is a destination for notifications: a chat service, a webhook,
// or the commit statuses of a Git forge.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=flotilla
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProviderSpec   `json:"spec,omitempty"`
	Status ProviderStatus `json:"status,omitempty"`
}

// ProviderList is a list of Provider objects.
//
// +kubebuilder:object:root=true
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}

// EventSourceReference selects the objects whose events an Alert (or the
// objects a Receiver) covers.
// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || self.name == '*'",message="matchLabels selects among every object of the kind: set name to '*'"
type EventSourceReference struct {
	// Kind of the objects, for example GitRepository or Stack.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// Name of the object, or * for every object of the kind.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the objects; defaults to the referring object's.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// MatchLabels narrows name * to the objects with these labels.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// AlertThreshold holds back a failure until it repeats.
type AlertThreshold struct {
	// Count of failure events, within window, that make an episode alert.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +required
	Count int32 `json:"count"`

	// Window the failure events must fall in.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +required
	Window metav1.Duration `json:"window"`
}

// AlertSpec says which events go to which Provider. The field names are
// Flux's; groupBy and threshold are Flotilla's.
type AlertSpec struct {
	// ProviderRef names the Provider, in the same namespace.
	// +required
	ProviderRef LocalObjectReference `json:"providerRef"`

	// EventSources are the objects whose events this Alert sends.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +required
	EventSources []EventSourceReference `json:"eventSources"`

	// EventSeverity is info (every event) or error (failures, and the
	// resolved message of each failure episode).
	// +kubebuilder:validation:Enum=info;error
	// +kubebuilder:default=info
	// +optional
	EventSeverity string `json:"eventSeverity,omitempty"`

	// InclusionList holds regular expressions; when set, only events whose
	// message matches one of them are sent.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	InclusionList []string `json:"inclusionList,omitempty"`

	// ExclusionList holds regular expressions; events whose message matches
	// one of them are not sent.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// EventMetadata is added to every message's metadata.
	// +optional
	EventMetadata map[string]string `json:"eventMetadata,omitempty"`

	// GroupBy makes the failures that share these fields one episode with
	// one message (for example [revision]: a broken commit that breaks ten
	// Stacks alerts once). Fields: kind, namespace, name, reason, revision.
	// Defaults to one episode per object.
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:items:Enum=kind;namespace;name;reason;revision
	// +optional
	GroupBy []string `json:"groupBy,omitempty"`

	// Threshold holds an episode back until it has count failure events
	// within window. Defaults to alerting on the first failure.
	// +optional
	Threshold *AlertThreshold `json:"threshold,omitempty"`

	// Suspend stops this Alert; its events are dropped.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// AlertEpisode is one open failure episode: the objects of one group that
// fail now. It is kept in the Alert's status so an agent restart neither
// alerts twice nor loses the resolved message.
type AlertEpisode struct {
	// Key is the group's key (the object, or the groupBy fields' values).
	Key string `json:"key"`

	// Objects are the failing objects, as Kind/namespace/name.
	// +optional
	Objects []string `json:"objects,omitempty"`

	// Events counts the failure events of the episode.
	Events int32 `json:"events"`

	// Since is when the episode (or, before it alerted, its window) began.
	Since metav1.Time `json:"since"`

	// Notified is true once the failure message was handed to delivery.
	// +optional
	Notified bool `json:"notified,omitempty"`

	// Reason and Message of the failure that opened the episode (redacted).
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// DeliveryStatus records the last delivery attempt of an Alert.
type DeliveryStatus struct {
	// Time of the last attempt.
	Time metav1.Time `json:"time"`

	// Succeeded is whether the message reached the Provider.
	Succeeded bool `json:"succeeded"`

	// Attempts made for the message.
	Attempts int32 `json:"attempts"`

	// Error of the last failed attempt, without URLs or tokens.
	// +optional
	Error string `json:"error,omitempty"`
}

// AlertStatus is what the agent observed.
type AlertStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Episodes are the open failure episodes.
	// +optional
	Episodes []AlertEpisode `json:"episodes,omitempty"`

	// Pending are the messages decided but not yet delivered (or given up
	// on). They are written with the episodes, removed once delivered, and
	// sent again by the agent that leads after a restart, so a failure or
	// resolved message is never lost between its decision and its delivery.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Pending []PendingMessage `json:"pending,omitempty"`

	// LastDelivery is the outcome of the last message sent.
	// +optional
	LastDelivery *DeliveryStatus `json:"lastDelivery,omitempty"`

	// FailedDeliveries counts the messages that could not be delivered
	// after every retry.
	// +optional
	FailedDeliveries int64 `json:"failedDeliveries,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// PendingMessage is a message of an Alert waiting for delivery.
type PendingMessage struct {
	// ID identifies the message among the Alert's pending ones.
	ID string `json:"id"`
	// Kind is failure, resolved or info.
	Kind string `json:"kind"`
	// Object is the object of the event, as Kind/namespace/name.
	Object string `json:"object"`
	// APIVersion is the object's group/version.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Objects are the objects of the episode, as Kind/namespace/name.
	// +optional
	Objects []string `json:"objects,omitempty"`
	// Severity is info or error.
	Severity string `json:"severity"`
	// Reason is the event's reason.
	Reason string `json:"reason"`
	// Message is the event's text, redacted.
	// +optional
	Message string `json:"message,omitempty"`
	// Revision is the source revision of the event.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Time is when the event was recorded.
	Time metav1.Time `json:"time"`
}

// Alert sends the events of selected objects to a Provider: one message
// per failure episode, and a resolved message when it ends.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=flotilla
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Delivered",type=string,JSONPath=`.status.lastDelivery.succeeded`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AlertSpec   `json:"spec,omitempty"`
	Status AlertStatus `json:"status,omitempty"`
}

// AlertList is a list of Alert objects.
//
// +kubebuilder:object:root=true
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Alert `json:"items"`
}

// ReceiverSpec says which webhooks are accepted and what they reconcile.
// +kubebuilder:validation:XValidation:rule="self.type != 'generic' || (has(self.insecureAllowUnauthenticated) && self.insecureAllowUnauthenticated)",message="type generic verifies nothing: set insecureAllowUnauthenticated: true to accept it, or use generic-hmac"
// +kubebuilder:validation:XValidation:rule="!has(self.allowSHA1) || !self.allowSHA1 || self.type in ['github', 'generic-hmac']",message="allowSHA1 applies to github and generic-hmac only"
type ReceiverSpec struct {
	// Type of the sender: generic-hmac, github, gitlab, or generic (which
	// verifies nothing and needs insecureAllowUnauthenticated).
	// +kubebuilder:validation:Enum=generic;generic-hmac;github;gitlab
	// +required
	Type string `json:"type"`

	// SecretRef names a Secret in the same namespace whose token key is
	// the shared secret: the HMAC key (github, generic-hmac) or the
	// X-Gitlab-Token value (gitlab). It is also part of the webhook path.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`

	// Events are the event types accepted (X-GitHub-Event, X-Gitlab-Event
	// values, like push or "Push Hook"); empty accepts every type.
	// +kubebuilder:validation:MaxItems=50
	// +optional
	Events []string `json:"events,omitempty"`

	// Resources are reconciled at once when a verified request arrives.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +required
	Resources []EventSourceReference `json:"resources"`

	// AllowSHA1 accepts SHA-1 signatures (X-Hub-Signature, sha1= in
	// X-Signature) when no SHA-256 one is sent. Off: SHA-1 is refused.
	// +optional
	AllowSHA1 bool `json:"allowSHA1,omitempty"`

	// InsecureAllowUnauthenticated accepts type generic, whose requests
	// prove nothing: anyone who knows the path can trigger reconciles.
	// +optional
	InsecureAllowUnauthenticated bool `json:"insecureAllowUnauthenticated,omitempty"`

	// Suspend stops accepting requests (they get 404).
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReceiverStatus is what the agent observed.
type ReceiverStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is /hook/ followed by the hex SHA-256 of the token, the
	// name and the namespace: the path to give the sender. It is empty
	// when the Receiver is not served: suspended, or stalled on its spec
	// or its Secret.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	ReconcileRequestStatus `json:",inline"`
}

// Receiver is an authenticated webhook that makes sources and Stacks
// reconcile at once.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=flotilla
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.webhookPath`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Receiver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ReceiverSpec   `json:"spec,omitempty"`
	Status ReceiverStatus `json:"status,omitempty"`
}

// ReceiverList is a list of Receiver objects.
//
// +kubebuilder:object:root=true
type ReceiverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Receiver `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Provider{}, &ProviderList{}, &Alert{}, &AlertList{}, &Receiver{}, &ReceiverList{})
}

// GetConditions returns the status conditions.
func (in *Provider) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Provider) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the status conditions.
func (in *Alert) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Alert) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// GetConditions returns the status conditions.
func (in *Receiver) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Receiver) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Kinds of the progressive delivery objects.
const (
	// CanaryKind is the kind of Canary objects.
	CanaryKind = "Canary"
	// MetricTemplateKind is the kind of MetricTemplate objects.
	MetricTemplateKind = "MetricTemplate"
)

// Routers a Canary shifts traffic with (spec.provider).
const (
	// RouterKubernetes is blue/green with Services only: the canary gets the
	// analysis traffic through <name>-canary for analysis.iterations
	// intervals, then the primary takes its spec. No weights.
	RouterKubernetes = "kubernetes"
	// RouterGatewayAPI shifts weights on a Gateway API HTTPRoute named <name>.
	RouterGatewayAPI = "gatewayapi"
)

// CanaryPhase is where a Canary is in its state machine. The names are
// Flagger's.
type CanaryPhase string

// Canary phases.
const (
	CanaryPhaseInitializing     CanaryPhase = "Initializing"
	CanaryPhaseInitialized      CanaryPhase = "Initialized"
	CanaryPhaseWaiting          CanaryPhase = "Waiting"
	CanaryPhaseProgressing      CanaryPhase = "Progressing"
	CanaryPhaseWaitingPromotion CanaryPhase = "WaitingPromotion"
	CanaryPhasePromoting        CanaryPhase = "Promoting"
	CanaryPhaseFinalising       CanaryPhase = "Finalising"
	CanaryPhaseSucceeded        CanaryPhase = "Succeeded"
	CanaryPhaseFailed           CanaryPhase = "Failed"
	// CanaryPhaseFrozen holds the weight after failed checks when
	// analysis.onFailure is freeze, until a person promotes or aborts.
	CanaryPhaseFrozen CanaryPhase = "Frozen"
)

// HookType is when a Canary's webhook is called. The names are Flagger's.
type HookType string

// Webhook types.
const (
	// ConfirmRolloutHook gates the start of an analysis: a non-2xx answer
	// holds the rollout in Waiting.
	ConfirmRolloutHook HookType = "confirm-rollout"
	// PreRolloutHook runs once before traffic goes to the canary; a failure
	// counts as a failed check.
	PreRolloutHook HookType = "pre-rollout"
	// RolloutHook runs at every interval of the analysis; a failure counts as
	// a failed check.
	RolloutHook HookType = "rollout"
	// ConfirmTrafficIncreaseHook gates each weight increase.
	ConfirmTrafficIncreaseHook HookType = "confirm-traffic-increase"
	// ConfirmPromotionHook gates the promotion.
	ConfirmPromotionHook HookType = "confirm-promotion"
	// PostRolloutHook runs after a promotion or a rollback.
	PostRolloutHook HookType = "post-rollout"
	// RollbackHook is asked at every interval: a 2xx answer rolls back now.
	RollbackHook HookType = "rollback"
	// EventHook receives every event the Canary records.
	EventHook HookType = "event"
)

// OnFailure is what a Canary does when its failed checks reach the threshold.
type OnFailure string

// Failure policies.
const (
	// OnFailureRollback routes all traffic back to the primary and scales
	// the canary to zero (Flagger's behaviour, the default).
	OnFailureRollback OnFailure = "rollback"
	// OnFailureFreeze holds the current weight in phase Frozen until a person
	// runs `flotilla promote canary` or `flotilla abort canary`.
	OnFailureFreeze OnFailure = "freeze"
)

// Annotations a person sets on a Canary through the CLI.
const (
	// CanaryPromoteAnnotation asks a Progressing, WaitingPromotion or Frozen
	// Canary to promote now; any new value does.
	CanaryPromoteAnnotation = "flotilla.io/promote-requested-at"
	// CanaryAbortAnnotation asks a Canary to roll back now; any new value does.
	CanaryAbortAnnotation = "flotilla.io/abort-requested-at"
)

// PromotedCondition is the Canary condition that says whether the last
// analysis promoted (Flagger's condition type).
const PromotedCondition = "Promoted"

// CanarySpec describes the progressive delivery of one Deployment. The field
// names are Flagger's.
type CanarySpec struct {
	// Provider is the router: gatewayapi (HTTPRoute weights) or kubernetes
	// (blue/green with Services). The default is kubernetes.
	// +kubebuilder:validation:Enum=kubernetes;gatewayapi
	// +kubebuilder:default=kubernetes
	// +optional
	Provider string `json:"provider,omitempty"`

	// MetricsServer is the Prometheus address the built-in metrics query,
	// like http://prometheus.monitoring:9090.
	// +optional
	MetricsServer string `json:"metricsServer,omitempty"`

	// TargetRef is the Deployment whose new versions go through analysis.
	// +required
	TargetRef CanaryTargetRef `json:"targetRef"`

	// AutoscalerRef is an optional HorizontalPodAutoscaler of the target; a
	// copy of it is made for the primary.
	// +optional
	AutoscalerRef *CanaryTargetRef `json:"autoscalerRef,omitempty"`

	// Service describes the Services (and, with gatewayapi, the HTTPRoute)
	// made for the target.
	// +required
	Service CanaryService `json:"service"`

	// Analysis is how a new version is judged.
	// +required
	Analysis CanaryAnalysis `json:"analysis"`

	// ProgressDeadlineSeconds bounds how long the canary or the primary may
	// take to become ready in any phase before the analysis fails. The
	// default is 600.
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=86400
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// SkipAnalysis promotes every new version at once, without checks.
	// +optional
	SkipAnalysis bool `json:"skipAnalysis,omitempty"`

	// Suspend stops the state machine where it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Ledger writes every phase change as a Git note on the commit the
	// cluster runs. Off when absent.
	// +optional
	Ledger *CanaryLedger `json:"ledger,omitempty"`
}

// CanaryTargetRef names the object a Canary acts on, in its namespace.
type CanaryTargetRef struct {
	// APIVersion of the target, like apps/v1.
	// +kubebuilder:default="apps/v1"
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the target: Deployment (or HorizontalPodAutoscaler for
	// autoscalerRef).
	// +kubebuilder:default=Deployment
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name of the target.
	// +required
	Name string `json:"name"`
}

// CanaryService describes the Services and route made for the target.
type CanaryService struct {
	// Name of the apex Service; the default is the target's name.
	// +optional
	Name string `json:"name,omitempty"`
	// Port the Services expose.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port"`
	// PortName of the Services' port; the default is http.
	// +optional
	PortName string `json:"portName,omitempty"`
	// TargetPort is the container port; the default is Port.
	// +optional
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`
	// GatewayRefs are the Gateways the HTTPRoute attaches to (gatewayapi).
	// +optional
	GatewayRefs []GatewayRef `json:"gatewayRefs,omitempty"`
	// Hosts are the HTTPRoute's hostnames (gatewayapi).
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// Match are extra request matches of the HTTPRoute's rule (gatewayapi),
	// as Gateway API HTTPRouteMatch objects.
	// +optional
	Match []HTTPMatch `json:"match,omitempty"`
	// Timeout of a request through the route, like 15s (gatewayapi).
	// +optional
	Timeout string `json:"timeout,omitempty"`
}

// GatewayRef names a Gateway, with the fields of Gateway API's ParentReference.
type GatewayRef struct {
	// Group of the parent; the default is gateway.networking.k8s.io.
	// +optional
	Group string `json:"group,omitempty"`
	// Kind of the parent; the default is Gateway.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Name of the Gateway.
	// +required
	Name string `json:"name"`
	// Namespace of the Gateway; the default is the Canary's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// SectionName is the Gateway listener to attach to.
	// +optional
	SectionName string `json:"sectionName,omitempty"`
	// Port of the Gateway listener to attach to.
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// HTTPMatch is a Gateway API HTTPRouteMatch (path and headers).
type HTTPMatch struct {
	// Path matches the request path.
	// +optional
	Path *HTTPPathMatch `json:"path,omitempty"`
	// Headers match request headers.
	// +optional
	Headers []HTTPHeaderMatch `json:"headers,omitempty"`
}

// HTTPPathMatch matches a request path, as Gateway API's.
type HTTPPathMatch struct {
	// Type is Exact, PathPrefix or RegularExpression.
	// +optional
	Type string `json:"type,omitempty"`
	// Value of the path.
	// +optional
	Value string `json:"value,omitempty"`
}

// HTTPHeaderMatch matches a request header, as Gateway API's.
type HTTPHeaderMatch struct {
	// Type is Exact or RegularExpression.
	// +optional
	Type string `json:"type,omitempty"`
	// Name of the header.
	Name string `json:"name"`
	// Value of the header.
	Value string `json:"value"`
}

// CanaryAnalysis says how a new version is judged and how traffic moves.
type CanaryAnalysis struct {
	// Interval between two steps of the analysis, like 1m. The default is 1m.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Interval string `json:"interval,omitempty"`
	// Threshold is the number of failed checks that ends the analysis.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=5
	// +optional
	Threshold int `json:"threshold,omitempty"`
	// MaxWeight is the canary's largest weight, in percent, before promotion.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxWeight int `json:"maxWeight,omitempty"`
	// StepWeight is the weight added at each step, in percent.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	StepWeight int `json:"stepWeight,omitempty"`
	// StepWeights lists the weights of each step instead of StepWeight, in
	// increasing order.
	// +optional
	StepWeights []int `json:"stepWeights,omitempty"`
	// Iterations is the number of intervals of a blue/green analysis (the
	// kubernetes router).
	// +kubebuilder:validation:Minimum=1
	// +optional
	Iterations int `json:"iterations,omitempty"`
	// Match are request matches that send traffic to the canary (A/B
	// testing); Gateway API HTTPRouteMatch objects.
	// +optional
	Match []HTTPMatch `json:"match,omitempty"`
	// Metrics are the checks run at every interval.
	// +optional
	Metrics []CanaryMetric `json:"metrics,omitempty"`
	// Webhooks are called at the points their type names.
	// +optional
	Webhooks []CanaryWebhook `json:"webhooks,omitempty"`
	// OnFailure is rollback (the default) or freeze.
	// +kubebuilder:validation:Enum=rollback;freeze
	// +optional
	OnFailure OnFailure `json:"onFailure,omitempty"`
}

// CanaryMetric is one check of the analysis.
type CanaryMetric struct {
	// Name of the check; request-success-rate and request-duration are
	// built in when no templateRef is given.
	// +required
	Name string `json:"name"`
	// Interval is the range of the query, like 1m. The default is the
	// analysis interval.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Interval string `json:"interval,omitempty"`
	// ThresholdRange is the range the value must fall in.
	// +optional
	ThresholdRange *CanaryThresholdRange `json:"thresholdRange,omitempty"`
	// TemplateRef names a MetricTemplate; its namespace defaults to the
	// Canary's.
	// +optional
	TemplateRef *CrossNamespaceObjectReference `json:"templateRef,omitempty"`
	// TemplateVariables are the template's {{ variables.NAME }}.
	// +optional
	TemplateVariables map[string]string `json:"templateVariables,omitempty"`
}

// CanaryThresholdRange bounds a metric's value; either end may be open.
type CanaryThresholdRange struct {
	// Min is the smallest accepted value.
	// +optional
	Min *float64 `json:"min,omitempty"`
	// Max is the largest accepted value.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// CrossNamespaceObjectReference names an object, maybe in another namespace.
type CrossNamespaceObjectReference struct {
	// Name of the object.
	// +required
	Name string `json:"name"`
	// Namespace of the object; the default is the referrer's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// CanaryWebhook is a call made at a point of the analysis.
type CanaryWebhook struct {
	// Type says when the webhook is called.
	// +kubebuilder:validation:Enum=confirm-rollout;pre-rollout;rollout;confirm-traffic-increase;confirm-promotion;post-rollout;rollback;event
	// +kubebuilder:default=rollout
	// +optional
	Type HookType `json:"type,omitempty"`
	// Name of the webhook, in messages.
	// +required
	Name string `json:"name"`
	// URL the payload is POSTed to.
	// +required
	URL string `json:"url"`
	// Timeout of the call, like 10s. The default is 10s.
	// +optional
	Timeout string `json:"timeout,omitempty"`
	// Metadata is sent in the payload.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}

// CanaryLedger says where the rollout ledger is written.
type CanaryLedger struct {
	// Push writes the notes under refs/notes/flotilla and pushes them to the
	// Git repository of the Stack that applied the Canary, with that
	// GitRepository's credentials.
	Push bool `json:"push"`
}

// CanaryStatus is the observed state of a Canary.
type CanaryStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is where the state machine is.
	// +optional
	Phase CanaryPhase `json:"phase,omitempty"`
	// FailedChecks counts the failed checks of the current analysis.
	// +optional
	FailedChecks int `json:"failedChecks"`
	// CanaryWeight is the canary's current weight, in percent.
	// +optional
	CanaryWeight int `json:"canaryWeight"`
	// Iterations counts the intervals run of the current analysis.
	// +optional
	Iterations int `json:"iterations"`
	// LastAppliedSpec is the hash of the target's pod template (and the
	// ConfigMaps and Secrets it uses) that the current analysis judges.
	// +optional
	LastAppliedSpec string `json:"lastAppliedSpec,omitempty"`
	// LastPromotedSpec is the hash of the spec the primary runs.
	// +optional
	LastPromotedSpec string `json:"lastPromotedSpec,omitempty"`
	// TrackedConfigs are the ConfigMaps and Secrets the target uses, with
	// the hash of each.
	// +optional
	TrackedConfigs map[string]string `json:"trackedConfigs,omitempty"`
	// CanaryImages are the images of the target's containers under analysis.
	// +optional
	CanaryImages []string `json:"canaryImages,omitempty"`
	// PhaseStartedAt is when the current phase began; each phase has a
	// deadline of progressDeadlineSeconds.
	// +optional
	PhaseStartedAt *metav1.Time `json:"phaseStartedAt,omitempty"`
	// LastStepAt is when the last analysis step ran.
	// +optional
	LastStepAt *metav1.Time `json:"lastStepAt,omitempty"`
	// LastMetrics are the values of the last step's checks.
	// +optional
	LastMetrics []MetricResult `json:"lastMetrics,omitempty"`
	// LastTransitionTime is when the phase last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
	// HandledPromote echoes the last promote request handled.
	// +optional
	HandledPromote string `json:"handledPromote,omitempty"`
	// HandledAbort echoes the last abort request handled.
	// +optional
	HandledAbort string `json:"handledAbort,omitempty"`
	// Ledger is the state of the rollout ledger.
	// +optional
	Ledger *LedgerStatus `json:"ledger,omitempty"`
	// Conditions: Ready, Reconciling, Stalled (kstatus) and Promoted.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// MetricResult is the outcome of one check at one step.
type MetricResult struct {
	// Name of the check.
	Name string `json:"name"`
	// Value the query returned, as text; empty when it returned none.
	// +optional
	Value string `json:"value,omitempty"`
	// Passed says whether the value was in range.
	Passed bool `json:"passed"`
	// Message says why a check failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// LedgerStatus says what reached the rollout ledger.
type LedgerStatus struct {
	// Commit is the commit the notes are written on.
	// +optional
	Commit string `json:"commit,omitempty"`
	// Entries counts the entries written for the current analysis.
	// +optional
	Entries int `json:"entries,omitempty"`
	// Pending are entries not pushed yet, oldest first.
	// +optional
	Pending []string `json:"pending,omitempty"`
	// LastError is the last failure to push, without credentials.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=canary,categories=flotilla
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.status.canaryWeight`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failedChecks`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Canary runs each new version of a Deployment beside the stable one,
// shifts traffic to it step by step while metric checks pass, and promotes
// it or rolls it back by itself.
type Canary struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CanarySpec   `json:"spec,omitempty"`
	Status CanaryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CanaryList is a list of Canaries.
type CanaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Canary `json:"items"`
}

// MetricTemplateSpec is a query run by a Canary's check.
type MetricTemplateSpec struct {
	// Provider is where the query runs.
	// +required
	Provider MetricProvider `json:"provider"`
	// Query is a Go template with Flagger's variables: {{ name }},
	// {{ namespace }}, {{ target }}, {{ service }}, {{ interval }} and
	// {{ variables.NAME }}.
	// +required
	Query string `json:"query"`
}

// MetricProvider is a metrics server.
type MetricProvider struct {
	// Type of the server: prometheus.
	// +kubebuilder:validation:Enum=prometheus
	// +kubebuilder:default=prometheus
	// +optional
	Type string `json:"type,omitempty"`
	// Address of the server, like http://prometheus.monitoring:9090.
	// +required
	Address string `json:"address"`
	// SecretRef names a Secret with username and password (basic auth) or
	// token (bearer) keys.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// InsecureSkipVerify skips the TLS check of the server's certificate.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=flotilla

// MetricTemplate is a reusable metric query for Canary checks.
type MetricTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec MetricTemplateSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// MetricTemplateList is a list of MetricTemplates.
type MetricTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MetricTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Canary{}, &CanaryList{}, &MetricTemplate{}, &MetricTemplateList{})
}

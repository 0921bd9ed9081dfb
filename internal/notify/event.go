package notify

import (
	"fmt"
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Severities of an Event.
const (
	SeverityInfo  = v1alpha1.EventSeverityInfo
	SeverityError = v1alpha1.EventSeverityError
)

// ObjectRef names the object an event is about.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	// APIVersion is the object's group/version.
	APIVersion string `json:"apiVersion,omitempty"`
}

// String returns Kind/namespace/name.
func (o ObjectRef) String() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// Event is one thing that happened to an object, as Alerts see it.
type Event struct {
	// Object is what the event is about.
	Object ObjectRef
	// Labels are the object's labels, for matchLabels.
	Labels map[string]string
	// Severity is info or error (a Warning event).
	Severity string
	// Reason is the controller's reason, like BuildFailed or NewArtifact.
	Reason string
	// Message is the event's text, already redacted by the controller.
	Message string
	// Revision is the source revision the object was at or trying, like
	// main@sha1:<commit>; empty when unknown.
	Revision string
	// Ready is whether the object reported Ready=True when the event was
	// recorded.
	Ready bool
	// Time is when the event was recorded.
	Time time.Time
}

// recoveryReasons are the Normal event reasons that mean an object works
// again, for kinds that record the event before they mark themselves
// Ready. Any Normal event of an object that is Ready counts too, so a new
// kind needs an entry here only if it records before it marks.
var recoveryReasons = map[string]bool{
	"NewArtifact":            true, // GitRepository: a fetch stored a revision
	v1alpha1.ReasonSucceeded: true, // Stack: a revision applied and healthy
}

// Recovered reports whether a Normal event says the object works again.
func (e Event) Recovered() bool {
	return e.Severity == SeverityInfo && (e.Ready || recoveryReasons[e.Reason])
}

// revisionPaths are the status fields a revision is read from, first found wins.
var revisionPaths = [][]string{
	{"status", "lastAttemptedRevision"},
	{"status", "lastAppliedRevision"},
	{"status", "artifact", "revision"},
}

// NewEvent builds an Event from what a controller recorded about obj.
// Kinds come from scheme, since typed objects often carry no TypeMeta.
func NewEvent(scheme *runtime.Scheme, obj runtime.Object, eventType, reason, message string, now time.Time) (Event, error) {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return Event{}, fmt.Errorf("event about an unknown kind: %w", err)
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return Event{}, fmt.Errorf("event about %s: %w", gvk.Kind, err)
	}
	ev := Event{
		Object: ObjectRef{Kind: gvk.Kind, Namespace: acc.GetNamespace(), Name: acc.GetName(),
			UID: string(acc.GetUID()), APIVersion: gvk.GroupVersion().String()},
		Labels:   maps.Clone(acc.GetLabels()),
		Severity: SeverityInfo,
		Reason:   reason,
		Message:  message,
		Time:     now,
	}
	if eventType == "Warning" {
		ev.Severity = SeverityError
	}
	ev.Revision, ev.Ready = statusOf(obj)
	return ev, nil
}

// statusOf reads the revision and the Ready condition of any kind that
// follows Flotilla's status conventions.
func statusOf(obj runtime.Object) (revision string, ready bool) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", false
	}
	for _, path := range revisionPaths {
		if r, ok, _ := unstructured.NestedString(u, path...); ok && r != "" {
			revision = r
			break
		}
	}
	conds, _, _ := unstructured.NestedSlice(u, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == v1alpha1.ReadyCondition {
			ready = m["status"] == "True"
		}
	}
	return revision, ready
}

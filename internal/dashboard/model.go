package dashboard

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The types below are the JSON the page reads: GET /api/fleet returns a
// Fleet, the event stream sends Fleet and Cluster values, GET on a Stack's
// URL returns a StackDetail, /api/delivery a Delivery and /api/plan a Plan.
// Field names are the page's contract: change them with the page.

// Fleet is every cluster of the kubeconfig the dashboard shows, with its
// Stacks: the matrix of the first page.
type Fleet struct {
	// Version grows with every change the server saw; the page ignores a
	// Cluster event older than the Fleet it holds.
	Version uint64 `json:"version"`
	// Generated is when the server assembled this value.
	Generated time.Time `json:"generated"`
	// Actions is true when the server was started with --allow-actions:
	// the page then offers reconcile, suspend and resume, each confirmed.
	Actions bool `json:"actions"`
	// Token must be sent in the X-Flotilla-Token header of every POST.
	Token string `json:"token,omitempty"`
	// Repo describes the local clone given with --repo, nil without one.
	Repo *Repo `json:"repo,omitempty"`
	// Clusters in kubeconfig order.
	Clusters []Cluster `json:"clusters"`
}

// Repo is the fleet repository's clone the dashboard reads commits from.
type Repo struct {
	// Branch is the branch the clusters follow (the default branch).
	Branch string `json:"branch"`
	// Head is the full hash of the branch's head.
	Head string `json:"head"`
	// Branches are the other branches, candidates for the plan page.
	Branches []string `json:"branches"`
}

// Cluster is one kubeconfig context.
type Cluster struct {
	// Name is the context's name.
	Name string `json:"name"`
	// Server is the API server's URL, without user information.
	Server string `json:"server"`
	// Reachable is false while the API server does not answer; the rows
	// below are then the last ones seen (Stale).
	Reachable bool `json:"reachable"`
	// Error says why the cluster is not reachable, or which kinds the
	// user's RBAC does not let the dashboard list.
	Error string `json:"error,omitempty"`
	// LastSeen is when the API server last answered.
	LastSeen *time.Time `json:"lastSeen,omitempty"`
	// Version counts the changes seen in this cluster (see Fleet.Version).
	Version uint64 `json:"version"`
	// Stacks sorted by namespace and name.
	Stacks []StackRow `json:"stacks"`
	// Canaries and ImageUpdates count what the delivery page shows.
	Canaries     int `json:"canaries"`
	ImageUpdates int `json:"imageUpdates"`
}

// StackRow is one cell of the matrix.
type StackRow struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Ready is the Ready condition's status: True, False or Unknown.
	Ready   string `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Reconciling is true while the Reconciling condition is True.
	Reconciling bool `json:"reconciling,omitempty"`
	Suspended   bool `json:"suspended,omitempty"`
	// Revision is status.lastAppliedRevision ("main@sha1:<hash>").
	Revision string `json:"revision,omitempty"`
	// SourceRevision is the revision the Stack's GitRepository fetched
	// last: the branch head as the cluster sees it.
	SourceRevision string `json:"sourceRevision,omitempty"`
	// Behind counts the commits from Revision to the branch head: 0 up to
	// date, -1 unknown (no --repo, or a revision the clone lacks). Without
	// --repo it is 0 or -1 only, from Revision against SourceRevision.
	Behind int `json:"behind"`
	// DriftLastHour counts the drift records of the last hour.
	DriftLastHour int `json:"driftLastHour"`
	// LastChange is when the Ready condition last changed.
	LastChange *time.Time `json:"lastChange,omitempty"`
	// Objects is the size of the inventory.
	Objects int `json:"objects"`
	// DependsOn are namespace/name of the Stacks this one waits for.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// StackDetail is the Stack page: GET /api/clusters/{cluster}/stacks/{namespace}/{name}.
type StackDetail struct {
	Cluster string   `json:"cluster"`
	Stack   StackRow `json:"stack"`
	// Source is Kind/namespace/name of the sourceRef; Path the path in it.
	Source string `json:"source"`
	Path   string `json:"path"`
	// Conditions of the Stack.
	Conditions []Condition `json:"conditions"`
	// Tree is the inventory grouped by namespace (cluster-scoped objects
	// under ""), each object with its kstatus health.
	Tree []NamespaceNode `json:"tree"`
	// Events about the Stack, newest first.
	Events []Event `json:"events"`
	// Drift is status.drift, newest first: who changed which field.
	Drift []Drift `json:"drift"`
	// Commit is the last applied revision's commit, nil without --repo or
	// when the clone lacks it.
	Commit *Commit `json:"commit,omitempty"`
	// DependsOn with each dependency's readiness.
	DependsOn []Dependency `json:"dependsOn"`
}

// Condition is a metav1.Condition as the page shows it.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// NamespaceNode groups the inventory's objects of one namespace.
type NamespaceNode struct {
	Namespace string       `json:"namespace"`
	Objects   []ObjectNode `json:"objects"`
}

// ObjectNode is one inventory object and its health.
type ObjectNode struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Health is kstatus's status: Current, InProgress, Failed, Terminating,
	// NotFound or Unknown (the dashboard could not read it).
	Health  string `json:"health"`
	Message string `json:"message,omitempty"`
}

// Event is a Kubernetes Event about a Stack.
type Event struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Time    time.Time `json:"time"`
}

// Drift is one record of status.drift.
type Drift struct {
	Object  string    `json:"object"`
	Fields  []string  `json:"fields,omitempty"`
	Manager string    `json:"manager,omitempty"`
	Action  string    `json:"action"`
	Time    time.Time `json:"time"`
}

// Commit is a commit of the fleet repository.
type Commit struct {
	Hash    string    `json:"hash"`
	Author  string    `json:"author"`
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Dependency is one entry of dependsOn and whether it is Ready.
type Dependency struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Ready     string `json:"ready"`
}

// Delivery is the delivery page: GET /api/delivery.
type Delivery struct {
	Canaries      []CanaryRow      `json:"canaries"`
	ImagePolicies []ImagePolicyRow `json:"imagePolicies"`
	ImageUpdates  []ImageUpdateRow `json:"imageUpdates"`
}

// CanaryRow is one Canary, with the weights the server saw over time.
type CanaryRow struct {
	Cluster      string `json:"cluster"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	Phase        string `json:"phase"`
	Weight       int    `json:"weight"`
	FailedChecks int    `json:"failedChecks"`
	Iterations   int    `json:"iterations"`
	// Images are the canary's images (status.canaryImages).
	Images []string `json:"images,omitempty"`
	// Metrics are the last values of each check.
	Metrics []Metric `json:"metrics,omitempty"`
	// History is the weight and phase at each change the server saw since
	// it started (at most 100 points).
	History []WeightPoint `json:"history,omitempty"`
	Message string        `json:"message,omitempty"`
}

// Metric is a check's last value.
type Metric struct {
	Name string `json:"name"`
	// Value as the query returned it, "" when it returned none.
	Value string `json:"value,omitempty"`
	// OK is false when the value was outside the threshold or missing.
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
}

// WeightPoint is a canary's weight and phase at a time.
type WeightPoint struct {
	Time   time.Time `json:"time"`
	Weight int       `json:"weight"`
	Phase  string    `json:"phase"`
}

// ImagePolicyRow is one ImagePolicy: the newest tag it chose.
type ImagePolicyRow struct {
	Cluster     string   `json:"cluster"`
	Namespace   string   `json:"namespace"`
	Name        string   `json:"name"`
	Image       string   `json:"image,omitempty"`
	Tag         string   `json:"tag,omitempty"`
	Previous    string   `json:"previous,omitempty"`
	Ready       string   `json:"ready"`
	Message     string   `json:"message,omitempty"`
	Quarantined []string `json:"quarantined,omitempty"`
}

// ImageUpdateRow is one ImageUpdate: the commit it last pushed.
type ImageUpdateRow struct {
	Cluster    string     `json:"cluster"`
	Namespace  string     `json:"namespace"`
	Name       string     `json:"name"`
	Ready      string     `json:"ready"`
	Message    string     `json:"message,omitempty"`
	LastCommit string     `json:"lastCommit,omitempty"`
	LastPush   *time.Time `json:"lastPush,omitempty"`
	// CommitMessage is the pushed commit's subject, with --repo.
	CommitMessage string `json:"commitMessage,omitempty"`
}

// Plan is the plan page: GET /api/plan?head=BRANCH[&base=REV]. Result is
// the plan engine's result (internal/fleet.Result) as `flotilla plan -o
// json` prints it.
type Plan struct {
	Base   string `json:"base"`
	Head   string `json:"head"`
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// conditionOf converts a metav1.Condition.
func conditionOf(c metav1.Condition) Condition {
	return Condition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime.Time}
}

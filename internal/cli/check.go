package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/agent"
)

// Names check looks for.
const (
	// minKubeVersion is the oldest kube-apiserver Flotilla supports.
	minKubeVersion = "1.30"
	// agentName names the agent's Deployment and ServiceAccount.
	agentName = "flotilla-agent"
	// installHint is the fix for anything `flotilla install` creates.
	installHint = "run `flotilla install`"
)

// crdNames are the CRDs the agent needs.
func crdNames() []string {
	return []string{"gitrepositories." + v1alpha1.GroupVersion.Group, "stacks." + v1alpha1.GroupVersion.Group}
}

// CheckOptions configure `flotilla check`.
type CheckOptions struct {
	// Kube names the cluster and the agent's namespace.
	Kube KubeFlags
	// Pre checks only what an install needs: the API server version and the
	// right to create CRDs and ClusterRoles.
	Pre bool
}

// checkResult is the outcome of one check: a line with ✔ or ✖, and what to
// do when it failed.
type checkResult struct {
	OK      bool
	Message string
	Fix     string
}

// checker runs the checks against one cluster.
type checker struct {
	c         client.Client
	version   discovery.ServerVersionInterface
	host      string
	namespace string
}

// NewCheckCommand returns `flotilla check`.
func NewCheckCommand(s Streams) *cobra.Command {
	o := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that the cluster can run Flotilla, and that the agent runs",
		Long: "Check the kube-apiserver version (at least " + minKubeVersion + "), Flotilla's CRDs, the agent's\n" +
			"Deployment and its permissions. With --pre, check only what `flotilla install`\n" +
			"needs: the version, and whether you may create CRDs and ClusterRoles.\n" +
			"Exit 1 when any check fails; each failure names its fix.",
		Example: "  flotilla check --pre   # before flotilla install\n  flotilla check         # after it",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), s) },
	}
	o.Kube.BindOne(cmd.Flags())
	cmd.Flags().BoolVar(&o.Pre, "pre", false, "check only the prerequisites of flotilla install")
	return cmd
}

// Run runs the checks, prints one line each and fails when any failed.
func (o *CheckOptions) Run(ctx context.Context, s Streams) error {
	cfg, err := o.Kube.RESTConfig()
	if err != nil {
		return err
	}
	ch, err := newChecker(cfg, o.Kube.NamespaceOrDefault())
	if err != nil {
		return err
	}
	results := []checkResult{ch.serverVersion()}
	if results[0].OK {
		if o.Pre {
			results = append(results, ch.installRights(ctx))
		} else {
			results = append(results, ch.crds(ctx)...)
			results = append(results, ch.agentDeployment(ctx), ch.agentRBAC(ctx))
		}
	}
	failed := printChecks(s.Out, paletteFor(s.Out), results)
	if failed > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d of %d checks failed", failed, len(results))}
	}
	return nil
}

func newChecker(cfg *rest.Config, namespace string) (*checker, error) {
	scheme := v1alpha1.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	return &checker{c: c, version: d, host: cfg.Host, namespace: namespace}, nil
}

// printChecks prints a line per result and returns how many failed.
func printChecks(w io.Writer, p palette, results []checkResult) int {
	failed := 0
	for _, r := range results {
		if r.OK {
			fmt.Fprintf(w, "%s %s\n", p.Green("✔"), r.Message)
			continue
		}
		failed++
		fmt.Fprintf(w, "%s %s\n", p.Red("✖"), r.Message)
		if r.Fix != "" {
			fmt.Fprintf(w, "  → %s\n", r.Fix)
		}
	}
	return failed
}

// serverVersion asks discovery for the API server's version.
func (ch *checker) serverVersion() checkResult {
	info, err := ch.version.ServerVersion()
	if err != nil {
		return checkResult{Message: fmt.Sprintf("kube-apiserver at %s cannot be reached: %v", ch.host, err),
			Fix: "check --kubeconfig and --context, and that the cluster is up"}
	}
	v, err := version.ParseGeneric(info.GitVersion)
	if err != nil {
		return checkResult{Message: fmt.Sprintf("kube-apiserver reports version %q, which is not a version", info.GitVersion)}
	}
	if !v.AtLeast(version.MustParseGeneric(minKubeVersion)) {
		return checkResult{Message: fmt.Sprintf("kube-apiserver %s is older than %s", info.GitVersion, minKubeVersion),
			Fix: "upgrade the cluster to Kubernetes " + minKubeVersion + " or newer"}
	}
	return checkResult{OK: true, Message: fmt.Sprintf("kube-apiserver %s (%s or newer)", info.GitVersion, minKubeVersion)}
}

// crds checks that each CRD exists and is Established.
func (ch *checker) crds(ctx context.Context) []checkResult {
	var results []checkResult
	for _, name := range crdNames() {
		var crd apiextensionsv1.CustomResourceDefinition
		err := ch.c.Get(ctx, client.ObjectKey{Name: name}, &crd)
		switch {
		case apierrors.IsNotFound(err):
			results = append(results, checkResult{Message: "CRD " + name + " is not installed", Fix: installHint})
		case err != nil:
			results = append(results, checkResult{Message: fmt.Sprintf("CRD %s cannot be read: %v", name, err)})
		case !crdEstablished(&crd):
			results = append(results, checkResult{Message: "CRD " + name + " is not Established",
				Fix: "see `kubectl describe crd " + name + "`"})
		default:
			results = append(results, checkResult{OK: true, Message: "CRD " + name + " is Established"})
		}
	}
	return results
}

func crdEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// agentDeployment checks that the agent's Deployment exists and is Available.
func (ch *checker) agentDeployment(ctx context.Context) checkResult {
	var d appsv1.Deployment
	name := ch.namespace + "/" + agentName
	err := ch.c.Get(ctx, client.ObjectKey{Namespace: ch.namespace, Name: agentName}, &d)
	switch {
	case apierrors.IsNotFound(err):
		return checkResult{Message: "Deployment " + name + " not found: the agent is not installed in " + ch.namespace,
			Fix: installHint + " (or pass -n with the agent's namespace)"}
	case err != nil:
		return checkResult{Message: fmt.Sprintf("Deployment %s cannot be read: %v", name, err)}
	}
	return deploymentResult(&d)
}

// deploymentResult says whether the agent's Deployment is Available, with
// its available and desired (spec.replicas) counts, and what to look at when
// it is not.
func deploymentResult(d *appsv1.Deployment) checkResult {
	ns, name := d.Namespace, d.Namespace+"/"+d.Name
	desired := int32(1) // the API server's default for an unset spec.replicas
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	counts := fmt.Sprintf("(%d/%d replicas)", d.Status.AvailableReplicas, desired)
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return checkResult{OK: true, Message: fmt.Sprintf("Deployment %s is available %s", name, counts)}
		}
	}
	fix := fmt.Sprintf("see `kubectl -n %s describe deployment %s` and `kubectl -n %s logs deployment/%s`", ns, d.Name, ns, d.Name)
	if d.Status.AvailableReplicas == 0 {
		fix += fmt.Sprintf("; if an agent runs outside the cluster (as `flotilla demo` runs one), it holds the leader Lease %s"+
			" and reconciles in its place: see `kubectl get lease -A --field-selector metadata.name=%s`", agent.LeaderElectionID, agent.LeaderElectionID)
	}
	return checkResult{Message: fmt.Sprintf("Deployment %s is not available %s", name, counts), Fix: fix}
}

// agentRBAC asks the API server whether the agent's ServiceAccount may do
// what the controllers do to Stacks and GitRepositories, in every namespace.
func (ch *checker) agentRBAC(ctx context.Context) checkResult {
	sa := "system:serviceaccount:" + ch.namespace + ":" + agentName
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ch.namespace, "system:authenticated"}
	var denied []string
	for _, attr := range agentAccess() {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: sa, Groups: groups, ResourceAttributes: &attr,
		}}
		if err := ch.c.Create(ctx, review); err != nil {
			return checkResult{Message: fmt.Sprintf("the permissions of %s cannot be reviewed: %v", sa, err)}
		}
		if !review.Status.Allowed {
			denied = append(denied, describeAccess(attr))
		}
	}
	name := "ServiceAccount " + ch.namespace + "/" + agentName
	if len(denied) > 0 {
		return checkResult{Message: name + " may not " + strings.Join(denied, ", "), Fix: installHint + " (it creates the agent's ClusterRole and binding)"}
	}
	return checkResult{OK: true, Message: name + " may list, watch and patch Stacks and GitRepositories and their status"}
}

// agentAccess is what the agent does to Flotilla's objects.
func agentAccess() []authorizationv1.ResourceAttributes {
	var attrs []authorizationv1.ResourceAttributes
	for _, res := range []string{"stacks", "gitrepositories"} {
		for _, verb := range []string{"list", "watch", "patch"} {
			attrs = append(attrs, authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: res, Verb: verb})
		}
		attrs = append(attrs, authorizationv1.ResourceAttributes{Group: v1alpha1.GroupVersion.Group, Resource: res, Subresource: "status", Verb: "patch"})
	}
	return attrs
}

// installRights asks whether the current user may create what install creates
// cluster-wide.
func (ch *checker) installRights(ctx context.Context) checkResult {
	var denied []string
	for _, attr := range []authorizationv1.ResourceAttributes{
		{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Verb: "create"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "create"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings", Verb: "create"},
	} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attr}}
		if err := ch.c.Create(ctx, review); err != nil {
			return checkResult{Message: fmt.Sprintf("your permissions cannot be reviewed: %v", err)}
		}
		if !review.Status.Allowed {
			denied = append(denied, describeAccess(attr))
		}
	}
	if len(denied) > 0 {
		return checkResult{Message: "you may not " + strings.Join(denied, ", "),
			Fix: "use a context with cluster-admin rights, or ask a cluster admin to run `flotilla install`"}
	}
	return checkResult{OK: true, Message: "you may create CRDs, ClusterRoles and ClusterRoleBindings"}
}

// describeAccess words a resource attribute: patch stacks/status.
func describeAccess(a authorizationv1.ResourceAttributes) string {
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	return a.Verb + " " + res
}

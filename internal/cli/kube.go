package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultNamespace is where the CLI looks for Flotilla's objects unless
// --namespace or --all-namespaces says otherwise.
const DefaultNamespace = "flotilla-system"

// maxSuggestionDistance is the largest edit distance between a name that
// does not exist and one that does for the CLI to suggest the latter.
const maxSuggestionDistance = 2

// KubeFlags are the flags of every verb that talks to a cluster: which
// kubeconfig and context, and which namespace.
type KubeFlags struct {
	// Kubeconfig is a path; empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Context overrides the kubeconfig's current context.
	Context string
	// Namespace scopes the verb; empty means DefaultNamespace.
	Namespace string
	// AllNamespaces scopes the verb to every namespace.
	AllNamespaces bool
}

// errNameWithAllNamespaces refuses a NAME given with --all-namespaces.
var errNameWithAllNamespaces = errors.New("NAME and --all-namespaces do not go together: a name is looked up in one namespace (-n)")

// Bind registers --kubeconfig, --context, -n/--namespace and
// -A/--all-namespaces on fs.
func (k *KubeFlags) Bind(fs *pflag.FlagSet) {
	k.BindOne(fs)
	fs.BoolVarP(&k.AllNamespaces, "all-namespaces", "A", k.AllNamespaces, "every namespace (overrides --namespace)")
}

// BindOne registers --kubeconfig, --context and -n/--namespace on fs, not
// -A: for the verbs that act on one named object or in one namespace.
func (k *KubeFlags) BindOne(fs *pflag.FlagSet) {
	fs.StringVar(&k.Kubeconfig, "kubeconfig", k.Kubeconfig, "path to a kubeconfig; default $KUBECONFIG, then ~/.kube/config")
	fs.StringVar(&k.Context, "context", k.Context, "kubeconfig context to use instead of the current one")
	fs.StringVarP(&k.Namespace, "namespace", "n", DefaultNamespace, "namespace of the Flotilla objects")
}

// ClusterArgs returns the --kubeconfig and --context flags the user gave,
// for a command line to copy: "--context prod --kubeconfig /x", or "".
func (k *KubeFlags) ClusterArgs() string {
	var args []string
	if k.Context != "" {
		args = append(args, "--context", shellQuote(k.Context))
	}
	if k.Kubeconfig != "" {
		args = append(args, "--kubeconfig", shellQuote(k.Kubeconfig))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// characters.
func shellQuote(s string) string {
	plain := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,=+", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plain(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NamespaceOrDefault returns --namespace, or DefaultNamespace when it is
// empty. It ignores AllNamespaces; see ListOptions.
func (k *KubeFlags) NamespaceOrDefault() string {
	if k.Namespace == "" {
		return DefaultNamespace
	}
	return k.Namespace
}

// ListOptions scope a List to the namespace, or to none with --all-namespaces.
func (k *KubeFlags) ListOptions() []client.ListOption {
	if k.AllNamespaces {
		return nil
	}
	return []client.ListOption{client.InNamespace(k.NamespaceOrDefault())}
}

// RESTConfig loads the cluster configuration as kubectl does: the
// --kubeconfig path, else the files of $KUBECONFIG, else ~/.kube/config,
// with --context in place of the current context.
func (k *KubeFlags) RESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	switch {
	case err == nil:
		return cfg, nil
	case clientcmd.IsEmptyConfig(err) && k.Kubeconfig == "" && os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		return nil, missingKubeconfigEnv(os.Getenv(clientcmd.RecommendedConfigPathEnvVar))
	case clientcmd.IsEmptyConfig(err):
		return nil, errors.New("no kubeconfig: pass --kubeconfig, set $KUBECONFIG or write ~/.kube/config")
	case k.Kubeconfig != "":
		return nil, fmt.Errorf("loading kubeconfig %s: %w", k.Kubeconfig, err)
	default:
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
}

// missingKubeconfigEnv explains an empty configuration although
// $KUBECONFIG is set: its files do not exist, or hold no cluster.
func missingKubeconfigEnv(env string) error {
	var missing []string
	for _, path := range filepath.SplitList(env) {
		if _, err := os.Stat(path); path != "" && err != nil {
			missing = append(missing, path)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return fmt.Errorf("$KUBECONFIG names %s, which does not exist: fix $KUBECONFIG or pass --kubeconfig", missing[0])
	default:
		return fmt.Errorf("$KUBECONFIG names %s, which do not exist: fix $KUBECONFIG or pass --kubeconfig", strings.Join(missing, ", "))
	}
	return fmt.Errorf("$KUBECONFIG (%s) holds no cluster: fix $KUBECONFIG or pass --kubeconfig", env)
}

// Client returns a controller-runtime client with the agent's scheme (core
// kinds and Flotilla's) for the cluster the flags name.
func (k *KubeFlags) Client() (client.Client, error) {
	cfg, err := k.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: v1alpha1.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	return c, nil
}

// NotFoundError is an object the user named that does not exist, with the
// name of a close one in the same namespace when there is one.
type NotFoundError struct {
	// Kind of the object, e.g. Stack.
	Kind string
	// Namespace and Name the user gave.
	Namespace, Name string
	// Suggestion is an existing name close to Name, or "".
	Suggestion string
	// Err is the API server's NotFound error.
	Err error
}

var _ error = (*NotFoundError)(nil)

// Error says what was not found and, when it can, what was meant.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %s/%s not found", e.Kind, e.Namespace, e.Name)
	if e.Suggestion != "" {
		msg += "; did you mean " + e.Suggestion + "?"
	}
	return msg
}

// Unwrap returns the API server's error, so apierrors.IsNotFound holds.
func (e *NotFoundError) Unwrap() error { return e.Err }

// getNamed reads the object key names into obj, of kind gvk. When it does
// not exist, the error is a *NotFoundError suggesting a close name.
func getNamed(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, obj client.Object) error {
	err := c.Get(ctx, key, obj)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s %s: %w", gvk.Kind, key, err)
	}
	nf := &NotFoundError{Kind: gvk.Kind, Namespace: key.Namespace, Name: key.Name, Err: err}
	names, listErr := namesIn(ctx, c, gvk, key.Namespace)
	if listErr == nil { // the suggestion is a courtesy: without it the error still stands
		nf.Suggestion = closestName(key.Name, names, maxSuggestionDistance)
	}
	return nf
}

// namesIn lists the names of the objects of kind gvk in a namespace, reading
// metadata only.
func namesIn(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, namespace string) ([]string, error) {
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.Name)
	}
	return names, nil
}

// closestName returns the candidate at the smallest edit distance from name,
// if that distance is at most maxDist; ties go to the first in sorted order.
func closestName(name string, candidates []string, maxDist int) string {
	sorted := slices.Sorted(slices.Values(candidates))
	best, bestDist := "", maxDist+1
	for _, c := range sorted {
		if c == name {
			continue
		}
		if d := levenshtein(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the number of single-rune insertions, deletions and
// substitutions that turn a into b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// readNamed resolves a kind word (source, stack, or an alias), connects to
// the cluster the flags name and reads the named object in their
// namespace; a missing object is a *NotFoundError with a suggestion.
func readNamed(ctx context.Context, kube *KubeFlags, word, name string) (objectKind, client.Client, client.Object, error) {
	kind, err := kindFor(word)
	if err != nil {
		return kind, nil, nil, err
	}
	c, err := kube.Client()
	if err != nil {
		return kind, nil, nil, err
	}
	obj := kind.newObject()
	key := client.ObjectKey{Namespace: kube.NamespaceOrDefault(), Name: name}
	return kind, c, obj, getNamed(ctx, c, kind.GVK(), key, obj)
}

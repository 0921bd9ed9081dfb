package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestLevenshtein(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"apps", "apps", 0},
		{"", "apps", 4},
		{"apps", "", 4},
		{"apps", "aps", 1},
		{"apps", "appz", 1},
		{"apps", "paps", 2},
		{"kitten", "sitting", 3},
		{"café", "cafe", 1},
	}
	for _, tc := range cases {
		if got := levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := levenshtein(tc.b, tc.a); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosestName(t *testing.T) {
	cases := []struct {
		name       string
		typo       string
		candidates []string
		want       string
	}{
		{"one letter missing", "aps", []string{"apps", "infra"}, "apps"},
		{"two letters swapped", "infar", []string{"apps", "infra"}, "infra"},
		{"the nearest wins", "appss", []string{"app", "apps"}, "apps"},
		{"three edits away is no suggestion", "xyz", []string{"apps"}, ""},
		{"a tie goes to the first in order", "ap", []string{"cp", "ab"}, "ab"},
		{"the name itself is not a suggestion", "apps", []string{"apps"}, ""},
		{"no candidates", "apps", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := closestName(tc.typo, tc.candidates, maxSuggestionDistance); got != tc.want {
				t.Errorf("closestName(%q, %q) = %q, want %q", tc.typo, tc.candidates, got, tc.want)
			}
		})
	}
}

func TestNotFoundError(t *testing.T) {
	apiErr := apierrors.NewNotFound(schema.GroupResource{Group: "flotilla.io", Resource: "stacks"}, "aps")
	cases := []struct {
		name string
		err  *NotFoundError
		want string
	}{
		{"with a suggestion", &NotFoundError{Kind: "Stack", Namespace: "team-a", Name: "aps", Suggestion: "apps", Err: apiErr}, "Stack team-a/aps not found; did you mean apps?"},
		{"without one", &NotFoundError{Kind: "Stack", Namespace: "team-a", Name: "aps", Err: apiErr}, "Stack team-a/aps not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !apierrors.IsNotFound(tc.err) {
				t.Error("apierrors.IsNotFound does not see the API server's error")
			}
			var nf *NotFoundError
			if !errors.As(error(tc.err), &nf) {
				t.Error("errors.As does not find *NotFoundError")
			}
		})
	}
}

func TestKubeFlagsBind(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		want     KubeFlags
		wantList []client.ListOption
	}{
		{
			name:     "defaults to flotilla-system",
			want:     KubeFlags{Namespace: DefaultNamespace},
			wantList: []client.ListOption{client.InNamespace(DefaultNamespace)},
		},
		{
			name:     "long flags",
			args:     []string{"--kubeconfig", "/tmp/kc", "--context", "staging", "--namespace", "team-a"},
			want:     KubeFlags{Kubeconfig: "/tmp/kc", Context: "staging", Namespace: "team-a"},
			wantList: []client.ListOption{client.InNamespace("team-a")},
		},
		{
			name:     "short flags, -A overrides -n",
			args:     []string{"-n", "team-a", "-A"},
			want:     KubeFlags{Namespace: "team-a", AllNamespaces: true},
			wantList: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var k KubeFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			k.Bind(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, k); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantList, k.ListOptions()); diff != "" {
				t.Errorf("ListOptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKubeFlagsNamespaceOrDefault(t *testing.T) {
	if got := (&KubeFlags{}).NamespaceOrDefault(); got != DefaultNamespace {
		t.Errorf("unset namespace = %q, want %q", got, DefaultNamespace)
	}
	if got := (&KubeFlags{Namespace: "team-a"}).NamespaceOrDefault(); got != "team-a" {
		t.Errorf("namespace = %q, want team-a", got)
	}
}

func TestKubeFlagsMissingKubeconfig(t *testing.T) {
	k := KubeFlags{Kubeconfig: "/nonexistent/kubeconfig"}
	_, err := k.Client()
	if err == nil || !strings.Contains(err.Error(), "loading kubeconfig /nonexistent/kubeconfig") {
		t.Fatalf("err = %v", err)
	}
}

func TestVerbsOnOneObjectRefuseAllNamespaces(t *testing.T) {
	for _, args := range [][]string{
		{"reconcile", "stack", "apps", "-A"},
		{"suspend", "stack", "apps", "-A"},
		{"resume", "stack", "apps", "--all-namespaces"},
		{"check", "-A"},
	} {
		_, _, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "unknown") {
			t.Errorf("%v = %v, want an unknown flag error", args, err)
		}
	}
}

func TestKubeFlagsBindOne(t *testing.T) {
	var k KubeFlags
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	k.BindOne(fs)
	if fs.Lookup("all-namespaces") != nil || fs.ShorthandLookup("A") != nil {
		t.Error("BindOne registered -A/--all-namespaces")
	}
	if err := fs.Parse([]string{"--context", "prod", "-n", "team-a"}); err != nil {
		t.Fatal(err)
	}
	if k.Context != "prod" || k.Namespace != "team-a" {
		t.Errorf("flags = %+v", k)
	}
}

func TestKubeFlagsClusterArgs(t *testing.T) {
	cases := []struct {
		k    KubeFlags
		want string
	}{
		{KubeFlags{}, ""},
		{KubeFlags{Context: "prod-eu"}, "--context prod-eu"},
		{KubeFlags{Context: "kind-a", Kubeconfig: "/tmp/my kube"}, "--context kind-a --kubeconfig '/tmp/my kube'"},
		{KubeFlags{Kubeconfig: "/tmp/it's"}, `--kubeconfig '/tmp/it'\''s'`},
	}
	for _, tc := range cases {
		if got := tc.k.ClusterArgs(); got != tc.want {
			t.Errorf("ClusterArgs(%+v) = %q, want %q", tc.k, got, tc.want)
		}
	}
}

func TestKubeFlagsKubeconfigEnvNamesMissingFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", dir+"/a:"+dir+"/b")
	_, err := (&KubeFlags{}).RESTConfig()
	want := "$KUBECONFIG names " + dir + "/a, " + dir + "/b, which do not exist"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	t.Setenv("KUBECONFIG", "/nonexistent")
	if _, err := (&KubeFlags{}).RESTConfig(); err == nil || !strings.Contains(err.Error(), "$KUBECONFIG names /nonexistent, which does not exist") {
		t.Fatalf("err = %v", err)
	}
}

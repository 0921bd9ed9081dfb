package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// fleetKubeconfig writes a kubeconfig with one context per named control
// plane (the context's name is the map's key), plus, when broken is not
// empty, a context of that name whose server nothing listens on. It returns
// the file's path.
func fleetKubeconfig(t *testing.T, planes map[string]*controlplane.Env, broken string) string {
	t.Helper()
	out := clientcmdapi.NewConfig()
	var any string
	for name, plane := range planes {
		in, err := clientcmd.LoadFromFile(plane.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		ctx := in.Contexts[in.CurrentContext]
		out.Clusters[name] = in.Clusters[ctx.Cluster]
		out.AuthInfos[name] = in.AuthInfos[ctx.AuthInfo]
		out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		out.CurrentContext, any = name, name
	}
	if broken != "" {
		out.Clusters[broken] = &clientcmdapi.Cluster{Server: "https://" + closedPort(t),
			CertificateAuthorityData: out.Clusters[any].CertificateAuthorityData}
		out.AuthInfos[broken] = out.AuthInfos[any]
		out.Contexts[broken] = &clientcmdapi.Context{Cluster: broken, AuthInfo: broken}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// createWithStatus creates obj in c, then writes the status it was given.
func createWithStatus(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	ctx := t.Context()
	withStatus := obj.DeepCopyObject().(client.Object)
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s: %v", objectName(obj), err)
	}
	withStatus.SetResourceVersion(obj.GetResourceVersion())
	withStatus.SetGeneration(obj.GetGeneration())
	if err := c.Status().Update(ctx, withStatus); err != nil {
		t.Fatalf("writing the status of %s: %v", objectName(obj), err)
	}
}

// createNamespace creates namespace name in c.
func createNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func TestGetAcrossTwoClusters(t *testing.T) {
	controlplane.Require(t, env)
	second := controlplane.StartForTest(t)
	ns := fmt.Sprintf("get-fleet-%d", getNow().UnixNano()%100000)
	for cluster, c := range map[string]client.Client{"alpha": env.Client, "beta": second.Client} {
		createNamespace(t, c, ns)
		createWithStatus(t, c, fixtureSource(ns, "fleet", 0, revMain,
			readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "stored artifact for revision "+revMain)))
		createWithStatus(t, c, fixtureStack(ns, "apps", 0, cluster == "beta", revMain,
			readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "applied revision "+revMain)))
	}
	createWithStatus(t, second.Client, fixtureStack(ns, "infra", 0, false, "",
		readyCond(metav1.ConditionFalse, v1alpha1.ReasonBuildFailed, "kustomization.yaml: no such file")))
	planes := map[string]*controlplane.Env{"alpha": env, "beta": second}
	kubeconfig := fleetKubeconfig(t, planes, "")
	want := [][]string{
		{"CLUSTER", "NAME", "READY", "SUSPENDED", "REVISION", "AGE", "MESSAGE"},
		{"alpha", "apps", "True", "false", "main@sha1:1a2b3c4d"},
		{"beta", "apps", "True", "true", "main@sha1:1a2b3c4d"},
		{"beta", "infra", "False", "false", "<none>"},
	}
	for name, args := range map[string][]string{
		"--context a,b":  {"get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--context", "alpha,beta"},
		"--all-contexts": {"get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--all-contexts"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, err := run(t, args...)
			if err != nil {
				t.Fatalf("get: %v\n%s", err, errOut)
			}
			assertRowsStartWith(t, out, want)
		})
	}
	t.Run("json names the cluster", func(t *testing.T) {
		out, _, err := run(t, "get", "sources", "-n", ns, "--kubeconfig", kubeconfig, "--all-contexts", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var entries []GetEntry
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Cluster+" "+e.Kind+" "+e.Name+" "+e.Revision)
		}
		wantJSON := []string{"alpha GitRepository fleet " + revMain, "beta GitRepository fleet " + revMain}
		if !slices.Equal(got, wantJSON) {
			t.Errorf("entries = %q, want %q", got, wantJSON)
		}
	})
	t.Run("a named object missing from one cluster is no error", func(t *testing.T) {
		out, _, err := run(t, "get", "stack", "infra", "-n", ns, "--kubeconfig", kubeconfig, "--all-contexts")
		if err != nil {
			t.Fatal(err)
		}
		assertRowsStartWith(t, out, [][]string{want[0], want[3]})
	})
	t.Run("a name no cluster has is not found, with a suggestion", func(t *testing.T) {
		out, _, err := run(t, "get", "stack", "appz", "-n", ns, "--kubeconfig", kubeconfig, "--all-contexts")
		wantErr := "Stack " + ns + "/appz not found in any of the contexts alpha, beta; did you mean apps (in context alpha)?"
		if err == nil || err.Error() != wantErr {
			t.Errorf("get = %v, want %q", err, wantErr)
		}
		if code, _ := ExitCode(err); code != ExitError || out != "" {
			t.Errorf("exit code %d, stdout %q; want %d and nothing", code, out, ExitError)
		}
	})
	t.Run("nothing found is [] in json", func(t *testing.T) {
		for _, args := range [][]string{
			{"get", "stacks", "-n", "nope", "--kubeconfig", kubeconfig, "--all-contexts", "-o", "json"},
			{"get", "stacks", "-n", "nope", "--kubeconfig", kubeconfig, "--context", "alpha", "-o", "json"},
		} {
			if out, _, err := run(t, args...); err != nil || out != "[]\n" {
				t.Errorf("%v = %q, %v; want []", args, out, err)
			}
		}
	})
}

func TestGetReportsABrokenContextAndPrintsTheOthers(t *testing.T) {
	controlplane.Require(t, env)
	ns := fmt.Sprintf("get-broken-%d", getNow().UnixNano()%100000)
	createNamespace(t, env.Client, ns)
	createWithStatus(t, env.Client, fixtureStack(ns, "apps", 0, false, revMain,
		readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "applied revision "+revMain)))
	kubeconfig := fleetKubeconfig(t, map[string]*controlplane.Env{"alpha": env}, "down")
	for name, args := range map[string][]string{
		"--context a,b":  {"get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--context", "down,alpha"},
		"--all-contexts": {"get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--all-contexts"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), completionTimeout*6)
			defer cancel()
			out, errOut, err := runContext(ctx, args...)
			var exit *ExitCodeError
			if !errors.As(err, &exit) || exit.Code != ExitError {
				t.Fatalf("get = %v, want exit code %d", err, ExitError)
			}
			if !strings.Contains(errOut, "context down:") {
				t.Errorf("stderr does not name the broken context:\n%s", errOut)
			}
			assertRowsStartWith(t, out, [][]string{
				{"CLUSTER", "NAME", "READY", "SUSPENDED", "REVISION", "AGE", "MESSAGE"},
				{"alpha", "apps", "True", "false", "main@sha1:1a2b3c4d"},
			})
		})
	}
	t.Run("every context failing prints no empty table", func(t *testing.T) {
		out, errOut, err := run(t, "get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--context", "down,down")
		if code, _ := ExitCode(err); code != ExitError || out != "" || !strings.Contains(errOut, "context down:") {
			t.Errorf("get = %v (exit %d), stdout %q, stderr %q; want exit 1, nothing on stdout, the context on stderr", err, code, out, errOut)
		}
	})
	t.Run("a name the reachable contexts lack is not found", func(t *testing.T) {
		out, errOut, err := run(t, "get", "stack", "appz", "-n", ns, "--kubeconfig", kubeconfig, "--context", "down,alpha")
		wantErr := "Stack " + ns + "/appz not found in context alpha; did you mean apps (in context alpha)?"
		if err == nil || err.Error() != wantErr || out != "" || !strings.Contains(errOut, "context down:") {
			t.Errorf("get = %v, stdout %q, stderr %q; want %q", err, out, errOut, wantErr)
		}
	})
	t.Run("one context that fails is a plain error", func(t *testing.T) {
		_, _, err := run(t, "get", "stacks", "-n", ns, "--kubeconfig", kubeconfig, "--context", "down")
		var exit *ExitCodeError
		if err == nil || errors.As(err, &exit) {
			t.Fatalf("get = %v, want an error with its message", err)
		}
	})
}

// runContext runs the root command with ctx and returns stdout, stderr and
// the error.
func runContext(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut strings.Builder
	cmd := NewRootCommand(Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// assertRowsStartWith checks that each row of table starts with the cells
// of want's row (AGE and MESSAGE vary with the clock and are left out).
func assertRowsStartWith(t *testing.T, table string, want [][]string) {
	t.Helper()
	got := rows(table)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(got), len(want), table)
	}
	for i := range want {
		if len(got[i]) < len(want[i]) || !slices.Equal(got[i][:len(want[i])], want[i]) {
			t.Errorf("row %d = %q, want it to start with %q\n%s", i, got[i], want[i], table)
		}
	}
}

package cli

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestSuspendAndResume(t *testing.T) {
	f := newAgentFixture(t, map[string]string{"README.md": "fleet\n"})
	f.push(t, configMapManifest("apps", f.ns, "settings", "one"))
	f.createStack(t, "apps", "apps")
	flags := []string{"-n", f.ns, "--kubeconfig", env.Kubeconfig}
	if out, _, err := run(t, append([]string{"reconcile", "stack", "apps", "--with-source", "--timeout", testWait}, flags...)...); err != nil {
		t.Fatalf("first reconcile: %v\n%s", err, out)
	}

	out, _, err := run(t, append([]string{"suspend", "stack", "apps"}, flags...)...)
	if err != nil || out != "✔ Stack "+f.ns+"/apps suspended\n" {
		t.Fatalf("suspend = %q, %v", out, err)
	}
	if !f.stack(t, "apps").Spec.Suspend {
		t.Fatal("spec.suspend is not set after suspend")
	}
	if out, _, _ := run(t, append([]string{"suspend", "stack", "apps"}, flags...)...); !strings.Contains(out, "already suspended") {
		t.Errorf("a second suspend says %q, want already suspended", out)
	}
	_, _, err = run(t, append([]string{"reconcile", "stack", "apps"}, flags...)...)
	hint := "is suspended: resume it first with `flotilla resume stack apps -n " + f.ns + " --kubeconfig " + shellQuote(env.Kubeconfig) + "`"
	if err == nil || !strings.Contains(err.Error(), hint) {
		t.Errorf("reconcile of a suspended Stack = %v, want a refusal containing %q", err, hint)
	}
	out, _, err = run(t, append([]string{"reconcile", "stack", "apps", "--with-source", "--timeout", testWait}, flags...)...)
	if err == nil || !strings.Contains(err.Error(), hint) || strings.Contains(out, "GitRepository") {
		t.Errorf("reconcile --with-source of a suspended Stack = %v, output %q; want the refusal before the source is reconciled", err, out)
	}

	rev := f.push(t, configMapManifest("apps", f.ns, "settings", "two"))
	if out, _, err := run(t, append([]string{"reconcile", "source", "fleet", "--timeout", testWait}, flags...)...); err != nil {
		t.Fatalf("reconcile source: %v\n%s", err, out)
	}
	if got := f.configMapValue(t, "settings"); got != "one" {
		t.Errorf("a suspended Stack applied the new revision: settings = %q", got)
	}

	out, errOut, err := run(t, append([]string{"resume", "stack", "apps", "--timeout", testWait}, flags...)...)
	if err != nil {
		t.Fatalf("resume: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"✔ Stack " + f.ns + "/apps resumed", "✔ Stack " + f.ns + "/apps: applied revision " + rev} {
		if !strings.Contains(out, want) {
			t.Errorf("resume output lacks %q:\n%s", want, out)
		}
	}
	if f.stack(t, "apps").Spec.Suspend {
		t.Error("spec.suspend is still set after resume")
	}
	if got := f.configMapValue(t, "settings"); got != "two" {
		t.Errorf("settings = %q after resume, want two", got)
	}
}

func TestResumeWithoutWaiting(t *testing.T) {
	f := newAgentFixture(t, map[string]string{"README.md": "fleet\n"})
	flags := []string{"-n", f.ns, "--kubeconfig", env.Kubeconfig}
	if _, _, err := run(t, append([]string{"suspend", "source", "fleet"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, append([]string{"resume", "source", "fleet", "--wait=false"}, flags...)...)
	if err != nil || out != "✔ GitRepository "+f.ns+"/fleet resumed\n" {
		t.Fatalf("resume --wait=false = %q, %v", out, err)
	}
	var src v1alpha1.GitRepository
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "fleet"}, &src); err != nil {
		t.Fatal(err)
	}
	if src.Spec.Suspend {
		t.Error("spec.suspend is still set after resume")
	}
	out, _, err = run(t, append([]string{"resume", "source", "fleet", "--wait=false"}, flags...)...)
	if err != nil || out != "✔ GitRepository "+f.ns+"/fleet is not suspended\n" {
		t.Errorf("resume of a source not suspended = %q, %v; want is not suspended", out, err)
	}
}

// stack reads a Stack of the fixture's namespace.
func (f *agentFixture) stack(t *testing.T, name string) *v1alpha1.Stack {
	t.Helper()
	var st v1alpha1.Stack
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: name}, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/rollouts"
)

func fixtureCanaries() []*v1alpha1.Canary {
	last := metav1.NewTime(getNow().Add(-40 * time.Second))
	weighted := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "podinfo", Generation: 1},
		Spec: v1alpha1.CanarySpec{Provider: v1alpha1.RouterGatewayAPI, TargetRef: v1alpha1.CanaryTargetRef{Name: "podinfo"},
			Analysis: v1alpha1.CanaryAnalysis{Threshold: 3, StepWeight: 10}},
		Status: v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhaseProgressing, CanaryWeight: 30, FailedChecks: 1, Iterations: 3,
			LastStepAt: &last, CanaryImages: []string{"ghcr.io/acme/podinfo:6.1.0"},
			Conditions: []metav1.Condition{readyCond(metav1.ConditionUnknown, "Progressing", "check failed (1/3): metric request-success-rate: value 0.91 below min 0.99")}},
	}
	blueGreen := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart", Generation: 1},
		Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "cart"}, Suspend: true,
			Analysis: v1alpha1.CanaryAnalysis{Iterations: 5}},
		Status: v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhaseSucceeded, Iterations: 5,
			Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", "promotion completed: cart-primary runs cart:2.0.0")}},
	}
	fresh := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "api"}}
	return []*v1alpha1.Canary{weighted, blueGreen, fresh}
}

func fixtureCanaryEntries() []CanaryEntry {
	var out []CanaryEntry
	for _, c := range fixtureCanaries() {
		out = append(out, canaryEntry(c))
	}
	return out
}

func TestGetCanariesTable(t *testing.T) {
	for _, all := range []bool{false, true} {
		var out bytes.Buffer
		if err := printCanariesTable(&out, fixtureCanaryEntries(), all, getNow()); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("get-canaries-table-all-namespaces-%v.golden", all), out.String())
	}
}

func TestGetCanariesStructured(t *testing.T) {
	for _, format := range []string{OutputJSON, OutputYAML} {
		var out bytes.Buffer
		if err := printData(&out, format, fixtureCanaryEntries()); err != nil {
			t.Fatal(err)
		}
		golden(t, "get-canaries."+format+".golden", out.String())
	}
}

func TestCanaryCommandsRefuseBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"promote", "stack", "apps"}, "promote takes a canary"},
		{[]string{"abort", "canary"}, "accepts 2 arg(s)"},
		{[]string{"get", "canaries", "a", "b"}, "at most one NAME"},
		{[]string{"get", "canaries", "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"get", "canaries", "web", "-A"}, "NAME and --all-namespaces"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			cmd := NewRootCommand(Streams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
			cmd.SetArgs(append(tc.args, "--kubeconfig", "/nonexistent"))
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// canaryFixture is a namespace with the agent running, Deployments made
// ready by the rollouts stand-in, and a blue/green Canary "web" whose
// analysis waits an hour between steps: only a person moves it.
func canaryFixture(t *testing.T) (string, *rollouts.Rollouts) {
	t.Helper()
	controlplane.Require(t, env)
	ns := uniqueName("cli-canary")
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	startAgent(t, ns)
	r := rollouts.Start(t, env.Client, ns)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:1"}}}}},
	}
	c := &v1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "web"}, Service: v1alpha1.CanaryService{Port: 80},
			Analysis: v1alpha1.CanaryAnalysis{Interval: "1h", Iterations: 3}},
	}
	for _, o := range []client.Object{d, c} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	waitCanaryPhase(t, ns, v1alpha1.CanaryPhaseInitialized)
	return ns, r
}

func waitCanaryPhase(t *testing.T, ns string, phase v1alpha1.CanaryPhase) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var c v1alpha1.Canary
	for time.Now().Before(deadline) {
		if env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &c) == nil && c.Status.Phase == phase {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Canary web not in phase %s: %s", phase, c.Status.Phase)
}

func release(t *testing.T, ns, image string) {
	t.Helper()
	// A patch, not an update: the rollouts stand-in writes the status meanwhile.
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	if err := env.Client.Patch(context.Background(), d, client.RawPatch(types.StrategicMergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

func TestPromoteAndAbortCanary(t *testing.T) {
	ns, r := canaryFixture(t)
	kube := KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: ns}
	var out bytes.Buffer
	s := Streams{Out: &out, ErrOut: &out}

	err := (&CanaryRequestOptions{Kube: kube, Name: "web"}).Run(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "not under analysis (phase Initialized)") {
		t.Fatalf("promote of an idle Canary: %v", err)
	}

	release(t, ns, "web:2")
	waitCanaryPhase(t, ns, v1alpha1.CanaryPhaseProgressing)
	out.Reset()
	if err := (&CanaryRequestOptions{Kube: kube, Name: "web", Wait: true, Timeout: 45 * time.Second}).Run(context.Background(), s); err != nil {
		t.Fatalf("promote: %v\n%s", err, out.String())
	}
	if got := out.String(); !strings.Contains(got, "promote requested for Canary "+ns+"/web") || !strings.Contains(got, "✔ Canary "+ns+"/web succeeded") {
		t.Errorf("promote output:\n%s", got)
	}

	get := &GetCanariesOptions{Kube: kube, Output: OutputJSON}
	out.Reset()
	if err := get.Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"phase": "Succeeded"`) || !strings.Contains(out.String(), `"web:2"`) {
		t.Errorf("get canaries -o json after the promotion:\n%s", out.String())
	}

	r.SetBroken("web", true) // the next canary never gets ready: only the abort ends it
	release(t, ns, "web:3")
	waitCanaryPhase(t, ns, v1alpha1.CanaryPhaseProgressing)
	out.Reset()
	if err := (&CanaryRequestOptions{Kube: kube, Name: "web", Abort: true, Wait: true, Timeout: 45 * time.Second}).Run(context.Background(), s); err != nil {
		t.Fatalf("abort: %v\n%s", err, out.String())
	}
	if got := out.String(); !strings.Contains(got, "✔ Canary "+ns+"/web failed: rolled back: aborted by request") {
		t.Errorf("abort output:\n%s", got)
	}
	out.Reset()
	if err := (&GetCanariesOptions{Kube: kube, Name: "web"}).Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "Failed") || !strings.Contains(got, "iteration 0/3") {
		t.Errorf("get canaries web:\n%s", got)
	}
}

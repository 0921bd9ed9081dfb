package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// agentStandIn is a fake client holding objs on which every read of a Stack
// or a GitRepository shows the last reconcile request handled with Ready
// True, as the agent would leave it: enough for the verbs' wait to end.
func agentStandIn(objs ...client.Object) client.Client {
	return agentStandInWith(nil, interceptor.Funcs{}, objs...)
}

// agentStandInWith is agentStandIn holding obj (when not nil) and objs,
// with more interceptors (all but Get).
func agentStandInWith(obj client.Object, funcs interceptor.Funcs, objs ...client.Object) client.Client {
	if obj != nil {
		objs = append(objs, obj)
	}
	funcs.Get = func(ctx context.Context, next client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
		if err := next.Get(ctx, key, obj); err != nil {
			return err
		}
		at := obj.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
		ready := readyCond(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "done")
		switch o := obj.(type) {
		case *v1alpha1.Stack:
			o.Status.LastHandledReconcileAt, o.Status.Conditions = at, []metav1.Condition{ready}
		case *v1alpha1.GitRepository:
			o.Status.LastHandledReconcileAt, o.Status.Conditions = at, []metav1.Condition{ready}
		}
		return nil
	}
	return fakeBuilder(objs...).WithInterceptorFuncs(funcs).Build()
}

// patchCounter counts the patches of a fake client in n.
func patchCounter(n *int) interceptor.Funcs {
	return interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
		*n++
		return c.Patch(ctx, obj, patch, opts...)
	}}
}

// mustKind is the kind of a command-line word.
func mustKind(t *testing.T, word string) objectKind {
	t.Helper()
	k, err := kindFor(word)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestReconcileNowRequestsWaitsAndReports(t *testing.T) {
	cases := []struct {
		name string
		obj  client.Object
		word string
		want string
	}{
		{"a Stack reports the applied revision", fixtureStack("ns", "apps", time.Hour, false, revMain), "stack",
			"► reconcile of Stack ns/apps requested\n◎ waiting for Stack ns/apps to reconcile\n✔ Stack ns/apps: applied revision " + revMain + "\n"},
		{"a source reports the fetched revision", fixtureSource("ns", "fleet", time.Hour, revTag), "source",
			"► reconcile of GitRepository ns/fleet requested\n◎ waiting for GitRepository ns/fleet to reconcile\n✔ GitRepository ns/fleet: fetched revision " + revTag + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := agentStandIn(tc.obj)
			var out bytes.Buffer
			p := newProgress(&out, false)
			err := reconcileNow(t.Context(), c, mustKind(t, tc.word), tc.obj, p)
			p.Stop()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReconcileSourceOf(t *testing.T) {
	st := fixtureStack("ns", "apps", time.Hour, false, revMain)
	other := fixtureStack("other", "apps", time.Hour, false, revMain)
	other.Spec.SourceRef.Namespace = "ns"
	suspended := fixtureSource("ns", "fleet", time.Hour, revMain)
	suspended.Spec.Suspend = true
	cases := []struct {
		name    string
		stack   *v1alpha1.Stack
		objs    []client.Object
		kube    KubeFlags
		wantOut string
		wantErr string
	}{
		{"the source is reconciled", st, []client.Object{fixtureSource("ns", "fleet", time.Hour, revTag)}, KubeFlags{},
			"► reconcile of GitRepository ns/fleet requested\n◎ waiting for GitRepository ns/fleet to reconcile\n✔ GitRepository ns/fleet: fetched revision " + revTag + "\n", ""},
		{"a source in another namespace is looked up there", other, []client.Object{fixtureSource("ns", "fleet", time.Hour, revTag)}, KubeFlags{},
			"► reconcile of GitRepository ns/fleet requested\n◎ waiting for GitRepository ns/fleet to reconcile\n✔ GitRepository ns/fleet: fetched revision " + revTag + "\n", ""},
		{"a missing source names the Stack and suggests a close name", st, []client.Object{fixtureSource("ns", "fleets", time.Hour, revTag)}, KubeFlags{},
			"", "the source of Stack ns/apps: GitRepository ns/fleet not found; did you mean fleets?"},
		{"a suspended source is refused with the command that resumes it", st, []client.Object{suspended}, KubeFlags{Context: "prod"},
			"", "GitRepository ns/fleet is suspended: resume it first with `flotilla resume source fleet -n ns --context prod`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := agentStandIn(tc.objs...)
			o := &ReconcileOptions{Kube: tc.kube}
			var out bytes.Buffer
			p := newProgress(&out, false)
			err := o.reconcileSourceOf(t.Context(), c, tc.stack, p)
			p.Stop()
			if got := errString(err); got != tc.wantErr {
				t.Errorf("reconcileSourceOf = %q, want %q", got, tc.wantErr)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

// errString is err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRefuseSuspended(t *testing.T) {
	suspendedStack := fixtureStack("team-a", "apps", time.Hour, true, "")
	cases := []struct {
		name string
		obj  client.Object
		word string
		kube KubeFlags
		want string
	}{
		{"an object that is not suspended", fixtureStack("ns", "apps", time.Hour, false, ""), "stack", KubeFlags{}, ""},
		{"the command names the namespace", suspendedStack, "stack", KubeFlags{},
			"Stack team-a/apps is suspended: resume it first with `flotilla resume stack apps -n team-a`"},
		{"the command keeps the cluster flags, quoted for a shell", suspendedStack, "st", KubeFlags{Context: "prod east", Kubeconfig: "/etc/kube"},
			"Stack team-a/apps is suspended: resume it first with `flotilla resume stack apps -n team-a --context 'prod east' --kubeconfig /etc/kube`"},
		{"an image kind uses its own word", &v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "podinfo"},
			Spec: v1alpha1.ImageRepositorySpec{Suspend: true}}, "imgrepo", KubeFlags{},
			"ImageRepository ns/podinfo is suspended: resume it first with `flotilla resume imagerepository podinfo -n ns`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := refuseSuspended(mustKind(t, tc.word), tc.obj, &tc.kube)
			if got := errString(err); got != tc.want {
				t.Errorf("refuseSuspended = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRefuseUnsuspendable(t *testing.T) {
	pol := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "podinfo"}}
	err := refuseUnsuspendable(mustKind(t, "imagepolicy"), pol)
	want := "ImagePolicy ns/podinfo has no spec.suspend: suspend its ImageRepository, or the ImageUpdate that writes its choice"
	if errString(err) != want {
		t.Errorf("refuseUnsuspendable(ImagePolicy) = %v, want %q", err, want)
	}
	for _, word := range []string{"stack", "source", "imagerepository", "imageupdate", "provider", "alert", "receiver"} {
		k := mustKind(t, word)
		if err := refuseUnsuspendable(k, k.newObject()); err != nil {
			t.Errorf("refuseUnsuspendable(%s) = %v, want nil", word, err)
		}
	}
}

// quarantinedPolicy is ImagePolicy ns/podinfo with tags quarantined.
func quarantinedPolicy(tags ...string) *v1alpha1.ImagePolicy {
	p := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "podinfo", Generation: 1}}
	for _, tag := range tags {
		p.Status.QuarantinedTags = append(p.Status.QuarantinedTags, v1alpha1.QuarantinedTag{Tag: tag, Reason: "canary failed"})
	}
	return p
}

func TestClearQuarantine(t *testing.T) {
	cases := []struct {
		name     string
		flag     bool
		obj      client.Object
		wantOut  string
		wantErr  error
		wantTags []string
	}{
		{"without the flag nothing changes", false, quarantinedPolicy("6.1.0"), "", nil, []string{"6.1.0"}},
		{"the tags are cleared and named", true, quarantinedPolicy("6.1.0", "6.2.0"),
			"► lifted the quarantine of 6.1.0, 6.2.0 on ImagePolicy ns/podinfo\n", nil, nil},
		{"no tag to clear says so", true, quarantinedPolicy(), "► ImagePolicy ns/podinfo has no quarantined tag\n", nil, nil},
		{"another kind is refused", true, fixtureStack("ns", "podinfo", time.Hour, false, ""), "", errClearQuarantineKind, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, tc.obj)
			obj := tc.obj.DeepCopyObject().(client.Object)
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
				t.Fatal(err)
			}
			o := &ReconcileOptions{ClearQuarantine: tc.flag}
			var out bytes.Buffer
			p := newProgress(&out, false)
			err := o.clearQuarantine(t.Context(), c, obj, p)
			p.Stop()
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("clearQuarantine = %v, want %v", err, tc.wantErr)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
			if _, ok := tc.obj.(*v1alpha1.ImagePolicy); !ok {
				return
			}
			var stored v1alpha1.ImagePolicy
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), &stored); err != nil {
				t.Fatal(err)
			}
			var tags []string
			for _, q := range stored.Status.QuarantinedTags {
				tags = append(tags, q.Tag)
			}
			if diff := cmp.Diff(tc.wantTags, tags); diff != "" {
				t.Errorf("stored quarantined tags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClearQuarantineRefusesAStaleRead: the patch carries the
// resourceVersion read, so a tag the agent quarantined since is not
// cleared unseen.
func TestClearQuarantineRefusesAStaleRead(t *testing.T) {
	c := newFakeClient(t, quarantinedPolicy("6.1.0"))
	var stale v1alpha1.ImagePolicy
	key := client.ObjectKey{Namespace: "ns", Name: "podinfo"}
	if err := c.Get(t.Context(), key, &stale); err != nil {
		t.Fatal(err)
	}
	fresh := stale.DeepCopy()
	fresh.Status.QuarantinedTags = append(fresh.Status.QuarantinedTags, v1alpha1.QuarantinedTag{Tag: "6.2.0", Reason: "canary failed"})
	if err := c.Status().Update(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	o := &ReconcileOptions{ClearQuarantine: true}
	p := newProgress(&bytes.Buffer{}, false)
	defer p.Stop()
	err := o.clearQuarantine(t.Context(), c, &stale, p)
	if !apierrors.IsConflict(err) || !strings.HasPrefix(err.Error(), "clearing the quarantine of ImagePolicy ns/podinfo: ") {
		t.Errorf("clearQuarantine = %v, want a conflict naming the policy", err)
	}
	var stored v1alpha1.ImagePolicy
	if err := c.Get(t.Context(), key, &stored); err != nil {
		t.Fatal(err)
	}
	if n := len(stored.Status.QuarantinedTags); n != 2 {
		t.Errorf("%d quarantined tags left, want the 2 the agent wrote", n)
	}
}

func TestSuspendPatchesOnlyWhatIsNeeded(t *testing.T) {
	cases := []struct {
		name    string
		stack   *v1alpha1.Stack
		wantOut string
	}{
		{"a running Stack is suspended", fixtureStack("ns", "apps", time.Hour, false, ""), "✔ Stack ns/apps suspended\n"},
		{"a suspended Stack is left as it is", fixtureStack("ns", "apps", time.Hour, true, ""), "✔ Stack ns/apps is already suspended\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			patches := 0
			c := fakeBuilder(tc.stack).WithInterceptorFuncs(patchCounter(&patches)).Build()
			obj := tc.stack.DeepCopy()
			var out bytes.Buffer
			if err := suspend(t.Context(), c, obj, Streams{Out: &out}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tc.wantOut)
			}
			var stored v1alpha1.Stack
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), &stored); err != nil {
				t.Fatal(err)
			}
			if !stored.Spec.Suspend {
				t.Error("spec.suspend is false on the cluster")
			}
			if want := map[bool]int{false: 1, true: 0}[tc.stack.Spec.Suspend]; patches != want {
				t.Errorf("%d patches, want %d", patches, want)
			}
		})
	}
}

func TestResume(t *testing.T) {
	cases := []struct {
		name     string
		stack    *v1alpha1.Stack
		wait     bool
		wantOut  string
		wantAnno bool
	}{
		{"without --wait only spec.suspend changes", fixtureStack("ns", "apps", time.Hour, true, revMain), false,
			"✔ Stack ns/apps resumed\n", false},
		{"a Stack that was not suspended says so", fixtureStack("ns", "apps", time.Hour, false, revMain), false,
			"✔ Stack ns/apps is not suspended\n", false},
		{"with --wait the same patch requests a reconcile, then waits for it", fixtureStack("ns", "apps", time.Hour, true, revMain), true,
			"✔ Stack ns/apps resumed\n◎ waiting for Stack ns/apps to reconcile\n✔ Stack ns/apps: applied revision " + revMain + "\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			patches := 0
			c := agentStandInWith(tc.stack, patchCounter(&patches))
			obj := tc.stack.DeepCopy()
			o := &SuspendOptions{Wait: tc.wait}
			var out bytes.Buffer
			if err := o.resume(t.Context(), c, mustKind(t, "stack"), obj, Streams{Out: &out}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantOut, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			var stored v1alpha1.Stack
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), &stored); err != nil {
				t.Fatal(err)
			}
			_, requested := stored.Annotations[v1alpha1.ReconcileRequestAnnotation]
			if stored.Spec.Suspend || requested != tc.wantAnno || patches != 1 {
				t.Errorf("stored suspend %t, reconcile requested %t after %d patches; want false, %t after 1",
					stored.Spec.Suspend, requested, patches, tc.wantAnno)
			}
		})
	}
}

func TestPatchSuspendNamesTheObjectOnFailure(t *testing.T) {
	c := newFakeClient(t)
	err := patchSuspend(t.Context(), c, fixtureSource("ns", "fleet", time.Hour, ""), true, "")
	if !apierrors.IsNotFound(err) || !strings.HasPrefix(err.Error(), "setting spec.suspend of GitRepository ns/fleet to true: ") {
		t.Errorf("patchSuspend = %v, want a NotFound naming the object and the value", err)
	}
}

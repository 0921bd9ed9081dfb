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

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// requestedAt is the reconcile request the wait tests wait for.
const requestedAt = "2026-03-01T12:00:00.123456789Z"

// handledStack is Stack ns/apps whose agent handled the request at with the
// given Ready condition and, when reconciling is not empty, a Reconciling
// condition with that message.
func handledStack(at string, ready *metav1.Condition, reconciling string) *v1alpha1.Stack {
	st := fixtureStack("ns", "apps", time.Hour, false, revMain)
	st.Status.LastHandledReconcileAt = at
	if ready != nil {
		st.Status.Conditions = append(st.Status.Conditions, *ready)
	}
	if reconciling != "" {
		st.Status.Conditions = append(st.Status.Conditions, metav1.Condition{Type: v1alpha1.ReconcilingCondition,
			Status: metav1.ConditionTrue, Reason: "Progressing", Message: reconciling, ObservedGeneration: 1})
	}
	return st
}

// readyOf is a Ready condition of generation 1.
func readyOf(status metav1.ConditionStatus, reason, message string) *metav1.Condition {
	c := readyCond(status, reason, message)
	return &c
}

// cancelOnGet is a fake client holding objs that cancels the returned
// context after its Get number n has read the object: the wait loop then
// ends on its next check, at a point the test chooses and not by the clock.
func cancelOnGet(t *testing.T, n int, objs ...client.Object) (client.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	gets := 0
	c := onGet(objs, func(ctx context.Context, next client.WithWatch, key client.ObjectKey, obj client.Object) error {
		err := next.Get(ctx, key, obj)
		if gets++; gets == n {
			cancel()
		}
		return err
	})
	return c, ctx
}

func TestWaitReconciledEndsOnTheHandledRequest(t *testing.T) {
	cases := []struct {
		name    string
		ready   *metav1.Condition
		wantErr string
	}{
		{"Ready True is success", readyOf(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "applied"), ""},
		{"Ready False is the agent's failure, with its reason and message", readyOf(metav1.ConditionFalse, v1alpha1.ReasonHealthCheckFailed, "Deployment shop/web not ready"),
			"Stack ns/apps failed: HealthCheckFailed: Deployment shop/web not ready"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, handledStack(requestedAt, tc.ready, ""))
			obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
			var out bytes.Buffer
			p := newProgress(&out, false)
			err := waitReconciled(t.Context(), c, obj, requestedAt, p)
			p.Stop()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("waitReconciled = %v, want nil", err)
			}
			if tc.wantErr != "" {
				var failed *ReconcileFailedError
				if !errors.As(err, &failed) || err.Error() != tc.wantErr {
					t.Fatalf("waitReconciled = %v, want a *ReconcileFailedError %q", err, tc.wantErr)
				}
			}
			if obj.Status.LastAppliedRevision != revMain {
				t.Errorf("obj was not updated from the cluster: revision %q", obj.Status.LastAppliedRevision)
			}
			if want := "◎ waiting for Stack ns/apps to reconcile\n"; out.String() != want {
				t.Errorf("progress = %q, want %q", out.String(), want)
			}
		})
	}
}

func TestWaitReconciledOnADeletedObject(t *testing.T) {
	c := newFakeClient(t)
	obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
	p := newProgress(&bytes.Buffer{}, false)
	defer p.Stop()
	err := waitReconciled(t.Context(), c, obj, requestedAt, p)
	if err == nil || err.Error() != "Stack ns/apps was deleted while waiting for its reconcile" {
		t.Errorf("waitReconciled = %v, want the deletion named", err)
	}
}

// TestWaitReconciledSaysWhyItStopped ends the wait by cancelling its context
// after a read and checks what the error says about the last read state.
func TestWaitReconciledSaysWhyItStopped(t *testing.T) {
	cases := []struct {
		name         string
		stack        *v1alpha1.Stack
		wantWhy      string
		wantProgress string
	}{
		{"the agent never handled the request", handledStack("an older request", readyOf(metav1.ConditionTrue, "Succeeded", "m"), ""),
			"the agent has not handled the request: is it running? (flotilla check)",
			"◎ waiting for Stack ns/apps to reconcile\n"},
		{"handled and still reconciling", handledStack(requestedAt, nil, "applying 3 objects"),
			"still reconciling: applying 3 objects",
			"◎ waiting for Stack ns/apps to reconcile\n"},
		{"handled, Ready Unknown and nothing under way", handledStack(requestedAt, readyOf(metav1.ConditionUnknown, "Progressing", "m"), ""),
			"Ready is not decided yet",
			"◎ waiting for Stack ns/apps to reconcile\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ctx := cancelOnGet(t, 1, tc.stack)
			obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
			var out bytes.Buffer
			p := newProgress(&out, false)
			err := waitReconciled(ctx, c, obj, requestedAt, p)
			p.Stop()
			var waited *NotReconciledError
			if !errors.As(err, &waited) {
				t.Fatalf("waitReconciled = %v, want a *NotReconciledError", err)
			}
			if waited.Why != tc.wantWhy || waited.Object != "Stack ns/apps" || !errors.Is(err, context.Canceled) {
				t.Errorf("error = %+v, want Why %q for Stack ns/apps, wrapping context.Canceled", waited, tc.wantWhy)
			}
			if !strings.HasPrefix(err.Error(), "stopped waiting for Stack ns/apps to reconcile; ") {
				t.Errorf("a cancel reads %q, want it to say the wait stopped", err)
			}
			if out.String() != tc.wantProgress {
				t.Errorf("progress = %q, want %q", out.String(), tc.wantProgress)
			}
		})
	}
}

// TestWaitReconciledShowsTheReconcilingMessage: each new Reconciling
// message is a progress line, the same one is not repeated.
func TestWaitReconciledShowsTheReconcilingMessage(t *testing.T) {
	st := handledStack(requestedAt, nil, "applying 3 objects")
	c, ctx := cancelOnGet(t, 2, st)
	obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
	var out bytes.Buffer
	p := newProgress(&out, false)
	_ = waitReconciled(ctx, c, obj, requestedAt, p)
	p.Stop()
	want := "◎ waiting for Stack ns/apps to reconcile\n◎ Stack ns/apps: applying 3 objects\n"
	if out.String() != want {
		t.Errorf("progress = %q, want %q", out.String(), want)
	}
}

// TestWaitReconciledReportsTheLastFailedRead: a read that fails (the API
// server away) is retried, and the error at the end names it.
func TestWaitReconciledReportsTheLastFailedRead(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	gets := 0
	c := onGet(nil, func(context.Context, client.WithWatch, client.ObjectKey, client.Object) error {
		if gets++; gets == 2 {
			cancel()
		}
		return errors.New("connection refused")
	})
	obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
	p := newProgress(&bytes.Buffer{}, false)
	defer p.Stop()
	err := waitReconciled(ctx, c, obj, requestedAt, p)
	var waited *NotReconciledError
	if !errors.As(err, &waited) || waited.Why != "the last read failed: connection refused" {
		t.Errorf("waitReconciled = %v, want the failed read as the reason", err)
	}
	if gets != 2 {
		t.Errorf("read %d times, want 2: a failed read is retried until the context ends", gets)
	}
}

// TestWaitReconciledIgnoresAReadRefusedForTheDeadline: client-go refuses a
// read that cannot finish before the deadline; that says nothing about the
// cluster, so the error names the state, not the refusal.
func TestWaitReconciledIgnoresAReadRefusedForTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), waitPoll/2)
	defer cancel()
	c := onGet(nil, func(context.Context, client.WithWatch, client.ObjectKey, client.Object) error {
		return errors.New("client rate limiter Wait returned an error: would exceed context deadline")
	})
	obj := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "apps"}}
	p := newProgress(&bytes.Buffer{}, false)
	defer p.Stop()
	err := waitReconciled(ctx, c, obj, requestedAt, p)
	var waited *NotReconciledError
	if !errors.As(err, &waited) || strings.Contains(waited.Why, "rate limiter") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waitReconciled = %v, want a deadline without the refused read", err)
	}
}

func TestRequestReconcile(t *testing.T) {
	st := fixtureStack("ns", "apps", time.Hour, false, "")
	st.Annotations = map[string]string{"team": "shop", v1alpha1.ReconcileRequestAnnotation: "an older request"}
	c := newFakeClient(t, st)
	obj := &v1alpha1.Stack{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(st), obj); err != nil {
		t.Fatal(err)
	}
	at, err := requestReconcile(t.Context(), c, obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil || !strings.HasSuffix(at, "Z") {
		t.Errorf("requested-at %q is not RFC 3339 in UTC: %v", at, err)
	}
	var stored v1alpha1.Stack
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(st), &stored); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"team": "shop", v1alpha1.ReconcileRequestAnnotation: at}
	if diff := cmp.Diff(want, stored.Annotations); diff != "" {
		t.Errorf("stored annotations (-want +got):\n%s", diff)
	}
}

func TestRequestReconcileOfAnObjectWithoutAnnotations(t *testing.T) {
	src := fixtureSource("ns", "fleet", time.Hour, "")
	c := newFakeClient(t, src)
	obj := src.DeepCopy()
	at, err := requestReconcile(t.Context(), c, obj)
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.Annotations[v1alpha1.ReconcileRequestAnnotation]; got != at {
		t.Errorf("annotation = %q, want %q", got, at)
	}
}

func TestRequestReconcileNamesTheObjectOnFailure(t *testing.T) {
	c := newFakeClient(t)
	obj := fixtureStack("ns", "gone", time.Hour, false, "")
	_, err := requestReconcile(t.Context(), c, obj)
	if err == nil || !strings.HasPrefix(err.Error(), "requesting a reconcile of Stack ns/gone: ") || !apierrors.IsNotFound(err) {
		t.Errorf("requestReconcile = %v, want a NotFound naming Stack ns/gone", err)
	}
}

func TestTimedOut(t *testing.T) {
	expired, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	boom := errors.New("Get \"https://k8s/\": context deadline exceeded")
	failed := &ReconcileFailedError{Object: "Stack ns/apps", Reason: "R", Message: "m"}
	waited := &NotReconciledError{Object: "Stack ns/apps", Why: "w", Err: context.DeadlineExceeded}
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"no error stays none", expired, nil, ""},
		{"an error before the deadline passes through", t.Context(), boom, boom.Error()},
		{"a cancel is not a timeout", cancelled, boom, boom.Error()},
		{"an error at the deadline names --timeout", expired, boom,
			"timed out waiting for Stack ns/apps to reconcile (--timeout 5s); " + boom.Error()},
		{"the agent's failure is kept as it is", expired, failed, failed.Error()},
		{"the wait's own timeout is not wrapped twice", expired, waited, waited.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := timedOut(tc.ctx, 5*time.Second, "Stack ns/apps", tc.err)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("timedOut = %q, want %q", got, tc.want)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("timedOut = %v, does not wrap %v", err, tc.err)
			}
		})
	}
}

func TestObjectName(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "ns", Name: "x"}
	cases := []struct {
		obj  client.Object
		want string
	}{
		{&v1alpha1.Stack{ObjectMeta: meta}, "Stack ns/x"},
		{&v1alpha1.GitRepository{ObjectMeta: meta}, "GitRepository ns/x"},
		{&v1alpha1.ImageRepository{ObjectMeta: meta}, "ImageRepository ns/x"},
		{&v1alpha1.ImagePolicy{ObjectMeta: meta}, "ImagePolicy ns/x"},
		{&v1alpha1.ImageUpdate{ObjectMeta: meta}, "ImageUpdate ns/x"},
		{&v1alpha1.Receiver{TypeMeta: metav1.TypeMeta{Kind: v1alpha1.ReceiverKind}, ObjectMeta: meta}, "Receiver ns/x"},
		// A typed object read with the client has no TypeMeta: the kind
		// comes from its type, as for the kinds above.
		{&v1alpha1.Provider{ObjectMeta: meta}, "Provider ns/x"},
		{&v1alpha1.Alert{ObjectMeta: meta}, "Alert ns/x"},
		{&v1alpha1.Receiver{ObjectMeta: meta}, "Receiver ns/x"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := objectName(tc.obj); got != tc.want {
				t.Errorf("objectName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	cases := []struct{ word, want string }{
		{"stack", "Stack ns/apps"},
		{"st", "Stack ns/apps"},
		{"gr", "GitRepository ns/apps"},
		{"SOURCE", "GitRepository ns/apps"},
		{"imgpol", "ImagePolicy ns/apps"},
		{"receivers", "Receiver ns/apps"},
		{"widget", "widget ns/apps"},
	}
	for _, tc := range cases {
		t.Run(tc.word, func(t *testing.T) {
			if got := displayName(tc.word, "ns", "apps"); got != tc.want {
				t.Errorf("displayName(%q) = %q, want %q", tc.word, got, tc.want)
			}
		})
	}
}

func TestReconcileVerb(t *testing.T) {
	cases := map[string]string{
		v1alpha1.StackKind:           "applied revision",
		v1alpha1.GitRepositoryKind:   "fetched revision",
		v1alpha1.ImageRepositoryKind: "scanned, tag list",
		v1alpha1.ImagePolicyKind:     "chose image",
		v1alpha1.ImageUpdateKind:     "pushed commit",
	}
	checkMapping(t, "reconcileVerb", reconcileVerb, cases)
}

// TestSuspendNamesANotificationKind: suspend, resume and reconcile take
// Providers, Alerts and Receivers; their messages name the kind.
func TestSuspendNamesANotificationKind(t *testing.T) {
	c := newFakeClient(t, &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "slack"}})
	obj := &v1alpha1.Provider{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "ns", Name: "slack"}, obj); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := suspend(t.Context(), c, obj, Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if want := "✔ Provider ns/slack suspended\n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

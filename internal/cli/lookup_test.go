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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// lookupStacks are Stacks apps, api and infra in ns, and apps in other.
func lookupStacks() []client.Object {
	return []client.Object{
		fixtureStack("ns", "apps", time.Hour, false, revMain),
		fixtureStack("ns", "api", time.Hour, false, revMain),
		fixtureStack("ns", "infra", time.Hour, true, revTag),
		fixtureStack("other", "apps", time.Hour, false, revTag),
	}
}

var stackGVK = v1alpha1.GroupVersion.WithKind(v1alpha1.StackKind)

func TestGetNamed(t *testing.T) {
	cases := []struct {
		name           string
		key            client.ObjectKey
		wantErr        string
		wantSuggestion string
	}{
		{"an existing object is read", client.ObjectKey{Namespace: "ns", Name: "apps"}, "", ""},
		{"a typo suggests the close name", client.ObjectKey{Namespace: "ns", Name: "app"}, "Stack ns/app not found; did you mean api?", "api"},
		{"a name far from every other suggests none", client.ObjectKey{Namespace: "ns", Name: "payments"}, "Stack ns/payments not found", ""},
		{"names of other namespaces are not suggested", client.ObjectKey{Namespace: "empty", Name: "apps"}, "Stack empty/apps not found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, lookupStacks()...)
			var st v1alpha1.Stack
			err := getNamed(t.Context(), c, stackGVK, tc.key, &st)
			if errString(err) != tc.wantErr {
				t.Fatalf("getNamed = %v, want %q", err, tc.wantErr)
			}
			if err == nil {
				if st.Name != tc.key.Name || st.Status.LastAppliedRevision != revMain {
					t.Errorf("read %s with revision %q", st.Name, st.Status.LastAppliedRevision)
				}
				return
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) || !apierrors.IsNotFound(err) || nf.Suggestion != tc.wantSuggestion {
				t.Errorf("getNamed = %#v, want a *NotFoundError suggesting %q that is a NotFound", err, tc.wantSuggestion)
			}
		})
	}
}

// TestGetNamedWithoutListRights: the suggestion is a courtesy; when the
// names cannot be listed the NotFound still stands, without one.
func TestGetNamedWithoutListRights(t *testing.T) {
	c := fakeBuilder(lookupStacks()...).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return apierrors.NewForbidden(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "stacks"}, "", errors.New("no list"))
		},
	}).Build()
	err := getNamed(t.Context(), c, stackGVK, client.ObjectKey{Namespace: "ns", Name: "app"}, &v1alpha1.Stack{})
	var nf *NotFoundError
	if !errors.As(err, &nf) || err.Error() != "Stack ns/app not found" {
		t.Errorf("getNamed = %v, want a plain NotFoundError", err)
	}
}

// TestGetNamedOtherErrorsAreWrapped: an error other than NotFound names
// the kind and the key, and is not dressed up as a NotFound.
func TestGetNamedOtherErrorsAreWrapped(t *testing.T) {
	c := onGet(nil, func(context.Context, client.WithWatch, client.ObjectKey, client.Object) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "stacks"}, "apps", errors.New("RBAC"))
	})
	err := getNamed(t.Context(), c, stackGVK, client.ObjectKey{Namespace: "ns", Name: "apps"}, &v1alpha1.Stack{})
	var nf *NotFoundError
	if errors.As(err, &nf) || !apierrors.IsForbidden(err) || !strings.HasPrefix(err.Error(), "reading Stack ns/apps: ") {
		t.Errorf("getNamed = %v, want the Forbidden wrapped with Stack ns/apps", err)
	}
}

func TestNamesIn(t *testing.T) {
	c := newFakeClient(t, lookupStacks()...)
	got, err := namesIn(t.Context(), c, stackGVK, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"api", "apps", "infra"}, got); diff != "" {
		t.Errorf("namesIn(ns) (-want +got):\n%s", diff)
	}
	got, err = namesIn(t.Context(), c, stackGVK, "nowhere")
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("namesIn(nowhere) = %#v, %v; want an empty list", got, err)
	}
}

func TestListKind(t *testing.T) {
	cases := []struct {
		name      string
		kube      KubeFlags
		objName   string
		wantNames []string
		wantErr   string
	}{
		{"the namespace of -n", KubeFlags{Namespace: "ns"}, "", []string{"ns/api", "ns/apps", "ns/infra"}, ""},
		{"the default namespace holds none", KubeFlags{}, "", []string{}, ""},
		{"every namespace with -A", KubeFlags{Namespace: "ns", AllNamespaces: true}, "", []string{"ns/api", "ns/apps", "ns/infra", "other/apps"}, ""},
		{"one named object", KubeFlags{Namespace: "other"}, "apps", []string{"other/apps"}, ""},
		{"a missing name is a NotFoundError", KubeFlags{Namespace: "ns"}, "infr", nil, "Stack ns/infr not found; did you mean infra?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, lookupStacks()...)
			objs, err := listKind(t.Context(), c, mustKind(t, "stack"), &tc.kube, tc.objName)
			if errString(err) != tc.wantErr {
				t.Fatalf("listKind = %v, want %q", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got := []string{}
			for _, o := range objs {
				if _, ok := o.(*v1alpha1.Stack); !ok {
					t.Errorf("%T is not a *v1alpha1.Stack", o)
				}
				got = append(got, o.GetNamespace()+"/"+o.GetName())
			}
			if diff := cmp.Diff(tc.wantNames, got); diff != "" {
				t.Errorf("listed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListKindNamesTheKindOnAFailedList(t *testing.T) {
	c := fakeBuilder().WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("connection refused")
		},
	}).Build()
	_, err := listKind(t.Context(), c, mustKind(t, "imgpol"), &KubeFlags{}, "")
	if errString(err) != "listing ImagePolicies: connection refused" {
		t.Errorf("listKind = %v, want the kind's plural named", err)
	}
}

func TestReadStack(t *testing.T) {
	c := newFakeClient(t, lookupStacks()...)
	st, err := readStack(t.Context(), c, KubeFlags{Namespace: "other"}, "apps")
	if err != nil || st.Namespace != "other" || st.Status.LastAppliedRevision != revTag {
		t.Errorf("readStack(other/apps) = %v, %v", st, err)
	}
	if _, err := readStack(t.Context(), c, KubeFlags{Namespace: "ns", AllNamespaces: true}, "apps"); errString(err) !=
		"a Stack is named in one namespace: use -n instead of --all-namespaces" {
		t.Errorf("readStack with -A = %v", err)
	}
	_, err = readStack(t.Context(), c, KubeFlags{}, "apps")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Namespace != DefaultNamespace {
		t.Errorf("readStack without -n = %v, want a NotFoundError in %s", err, DefaultNamespace)
	}
}

func TestNotFoundEverywhere(t *testing.T) {
	kind := objectKind{Kind: v1alpha1.StackKind}
	nf := func(suggestion string) *NotFoundError { return &NotFoundError{Suggestion: suggestion} }
	cases := []struct {
		name string
		r    collected
		obj  string
		want string
	}{
		{"no name: an empty list is no error", collected{searched: []string{"a"}, missing: []*NotFoundError{nf("")}}, "", ""},
		{"a context has it", collected{entries: []GetEntry{{Name: "apps"}}, searched: []string{"a"}, missing: []*NotFoundError{nf("")}}, "apps", ""},
		{"no context could be read", collected{errs: []error{errors.New("down")}}, "apps", ""},
		{"one context searched", collected{searched: []string{"prod"}, missing: []*NotFoundError{nf("")}}, "apps",
			"Stack ns/apps not found in context prod"},
		{"several contexts searched", collected{searched: []string{"prod", "staging"}, missing: []*NotFoundError{nf(""), nf("")}}, "apps",
			"Stack ns/apps not found in any of the contexts prod, staging"},
		{"the first suggestion names its context", collected{searched: []string{"prod", "staging", "dev"},
			missing: []*NotFoundError{nf(""), nf("app"), nf("aps")}}, "apps",
			"Stack ns/apps not found in any of the contexts prod, staging, dev; did you mean app (in context staging)?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errString(tc.r.notFoundEverywhere(kind, tc.obj, "ns")); got != tc.want {
				t.Errorf("notFoundEverywhere = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetPrintsAnEmptyListPerFormat(t *testing.T) {
	cases := []struct{ output, want string }{
		{OutputTable, "no Stacks found\n"},
		{OutputJSON, "[]\n"},
		{OutputYAML, "[]\n"},
	}
	for _, tc := range cases {
		t.Run(tc.output, func(t *testing.T) {
			o := &GetOptions{Output: tc.output}
			var out bytes.Buffer
			if err := o.print(&out, mustKind(t, "stacks"), []GetEntry{}, false); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("print = %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestGetTableShortensTheRevisionInTheMessage: REVISION shows the short
// revision, and the message, which often repeats it, uses the short one too.
func TestGetTableShortensTheRevisionInTheMessage(t *testing.T) {
	cases := []struct {
		name string
		e    GetEntry
		want string
	}{
		{"the revision in the message is shortened", GetEntry{Revision: revMain, Message: "applied revision " + revMain + ": 2 created"},
			"applied revision main@sha1:1a2b3c4d: 2 created"},
		{"no revision leaves the message", GetEntry{Message: "applied revision " + revMain}, "applied revision " + revMain},
		{"a message without the revision is kept", GetEntry{Revision: revMain, Message: "health check failed"}, "health check failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tableMessage(tc.e); got != tc.want {
				t.Errorf("tableMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGetEntryOfAReceiver(t *testing.T) {
	r := &v1alpha1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "github", Generation: 1, CreationTimestamp: metav1.NewTime(getNow())},
		Spec:       v1alpha1.ReceiverSpec{Suspend: true},
		Status:     v1alpha1.ReceiverStatus{WebhookPath: "/hook/ab", Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", "receiving")}},
	}
	got := getEntry("prod", mustKind(t, "receiver"), r)
	want := GetEntry{Cluster: "prod", Kind: v1alpha1.ReceiverKind, Namespace: "ns", Name: "github", Ready: "True", Reason: "Succeeded",
		Message: "receiving", Suspended: true, Path: "/hook/ab", Created: getNow()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("getEntry (-want +got):\n%s", diff)
	}
}

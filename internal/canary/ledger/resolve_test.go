package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

// update writes obj (spec and metadata) and fails t on an error.
func update(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func TestResolveFindsTheRepositoryCommitAndCredentials(t *testing.T) {
	f := newFleet(t)
	cl := newCluster(t, f, gitPassword)
	cl.applied(t, f.commit)
	got, err := ledger.Resolve(context.Background(), env.Client, cl.canary)
	if err != nil {
		t.Fatal(err)
	}
	want := &ledger.Target{
		Remote: ledger.Remote{URL: f.srv.RepoURL("fleet"), Credentials: git.Credentials{Username: gitUser, Password: gitPassword}, Timeout: 60 * time.Second},
		Commit: f.commit, Revision: "main@sha1:" + f.commit,
		Stack: types.NamespacedName{Namespace: cl.ns, Name: "apps"}, Source: types.NamespacedName{Namespace: cl.ns, Name: "fleet"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

// While the Stack applies a new revision, the Canary already sees its
// target change: the ledger is written on the revision being applied.
func TestResolvePrefersTheRevisionBeingApplied(t *testing.T) {
	f := newFleet(t)
	cl := newCluster(t, f, gitPassword)
	cl.applied(t, f.commit)
	const next = "fedcba9876543210fedcba9876543210fedcba98"
	cl.stack.Status.LastAttemptedRevision = "main@sha1:" + next
	if err := env.Client.Status().Update(context.Background(), cl.stack); err != nil {
		t.Fatal(err)
	}
	got, err := ledger.Resolve(context.Background(), env.Client, cl.canary)
	if err != nil {
		t.Fatal(err)
	}
	if got.Commit != next || got.Revision != "main@sha1:"+next {
		t.Errorf("Resolve = commit %s revision %s, want the attempted %s", got.Commit, got.Revision, next)
	}
}

func TestResolveEdges(t *testing.T) {
	f := newFleet(t)
	ctx := context.Background()

	t.Run("a revision that names no commit is not applied", func(t *testing.T) {
		cl := newCluster(t, f, gitPassword)
		cl.applied(t, f.commit)
		cl.stack.Status.LastAppliedRevision = "main@sha256:" + f.commit
		if err := env.Client.Status().Update(ctx, cl.stack); err != nil {
			t.Fatal(err)
		}
		_, err := ledger.Resolve(ctx, env.Client, cl.canary)
		want := fmt.Sprintf("ledger of Canary %s/podinfo: the Stack has not applied a revision yet: Stack %s/apps has status.lastAppliedRevision %q, which names no commit", cl.ns, cl.ns, "main@sha256:"+f.commit)
		if !errors.Is(err, ledger.ErrNotApplied) || err.Error() != want {
			t.Errorf("Resolve = %v\nwant %s", err, want)
		}
		var re *ledger.ResolveError
		if !errors.As(err, &re) || re.Canary != cl.ns+"/podinfo" {
			t.Errorf("Resolve error %#v, want a *ResolveError naming the Canary", err)
		}
	})

	t.Run("without the namespace label the Stack is the Canary's namespace's", func(t *testing.T) {
		cl := newCluster(t, f, gitPassword)
		cl.applied(t, f.commit)
		delete(cl.canary.Labels, apply.OwnerNamespaceLabel)
		got, err := ledger.Resolve(ctx, env.Client, cl.canary)
		if err != nil || got.Stack != (types.NamespacedName{Namespace: cl.ns, Name: "apps"}) {
			t.Errorf("Resolve = %+v, %v; want the Stack %s/apps", got, err, cl.ns)
		}
	})

	t.Run("a public repository has no credentials and its own timeout", func(t *testing.T) {
		cl := newCluster(t, f, gitPassword)
		cl.applied(t, f.commit)
		src := &v1alpha1.GitRepository{}
		if err := env.Client.Get(ctx, types.NamespacedName{Namespace: cl.ns, Name: "fleet"}, src); err != nil {
			t.Fatal(err)
		}
		src.Spec.SecretRef, src.Spec.Timeout = nil, &metav1.Duration{Duration: 45 * time.Second}
		update(t, src)
		got, err := ledger.Resolve(ctx, env.Client, cl.canary)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(got.Credentials, git.Credentials{}) || got.Timeout != 45*time.Second {
			t.Errorf("Resolve = credentials of user %q, timeout %s; want none and 45s", got.Credentials.Username, got.Timeout)
		}
	})

	t.Run("the source may live in another namespace", func(t *testing.T) {
		cl := newCluster(t, f, gitPassword)
		other := newCluster(t, f, gitPassword) // its GitRepository is the one used
		cl.applied(t, f.commit)
		cl.stack.Spec.SourceRef.Namespace = other.ns
		update(t, cl.stack)
		got, err := ledger.Resolve(ctx, env.Client, cl.canary)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != (types.NamespacedName{Namespace: other.ns, Name: "fleet"}) || got.Credentials.Password != gitPassword {
			t.Errorf("Resolve source %s, password found %t; want %s/fleet with its Secret", got.Source, got.Credentials.Password == gitPassword, other.ns)
		}
	})

	t.Run("errors never carry the credentials", func(t *testing.T) {
		cl := newCluster(t, f, gitPassword)
		cl.applied(t, f.commit)
		cl.canary.Name = "impostor"
		_, err := ledger.Resolve(ctx, env.Client, cl.canary)
		if err == nil || strings.Contains(err.Error(), gitPassword) || strings.Contains(err.Error(), gitUser) {
			t.Errorf("Resolve = %v, want an error without the credentials", err)
		}
	})
}

// The quarantine list of a policy is bounded: the oldest tag goes first,
// and a tag quarantined again moves to the end with its new reason.
func TestQuarantineKeepsTheLatestTags(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	key := policyAt(t, ns, "podinfo", "ghcr.io/stefanprodan/podinfo", "6.5.1")
	p := &v1alpha1.ImagePolicy{}
	if err := env.Client.Get(ctx, key, p); err != nil {
		t.Fatal(err)
	}
	at := metav1.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	for i := range v1alpha1.MaxQuarantinedTags {
		p.Status.QuarantinedTags = append(p.Status.QuarantinedTags, v1alpha1.QuarantinedTag{Tag: fmt.Sprintf("6.4.%d", i), Canary: ns + "/podinfo", Time: at})
	}
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"}}
	rb := ledger.NewRollback(env.Client)
	if err := rb.Quarantine(ctx, cn, []string{"ghcr.io/stefanprodan/podinfo:6.5.1"}, "first"); err != nil {
		t.Fatal(err)
	}
	if err := rb.Quarantine(ctx, cn, []string{"ghcr.io/stefanprodan/podinfo:6.5.1"}, "second"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, key, p); err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, q := range p.Status.QuarantinedTags {
		tags = append(tags, q.Tag)
	}
	want := []string{}
	for i := 1; i < v1alpha1.MaxQuarantinedTags; i++ {
		want = append(want, fmt.Sprintf("6.4.%d", i))
	}
	want = append(want, "6.5.1")
	if diff := cmp.Diff(want, tags); diff != "" {
		t.Errorf("quarantinedTags (-want +got):\n%s", diff)
	}
	if last := p.Status.QuarantinedTags[len(p.Status.QuarantinedTags)-1]; last.Reason != "second" || last.Canary != ns+"/podinfo" {
		t.Errorf("the re-quarantined tag = %+v, want reason second by %s/podinfo", last, ns)
	}
	if !strings.HasSuffix(p.Annotations[v1alpha1.ReconcileRequestAnnotation], " quarantine 6.5.1") {
		t.Errorf("reconcile request %q, want it to say which tag", p.Annotations[v1alpha1.ReconcileRequestAnnotation])
	}
}

// A Canary no Stack applied looks only in its own namespace, and a
// namespace without policies is no error.
func TestQuarantineWithoutPoliciesIsNoError(t *testing.T) {
	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: newNamespace(t), Name: "podinfo"}}
	if err := ledger.NewRollback(env.Client).Quarantine(context.Background(), cn, []string{"app:1"}, "why"); err != nil {
		t.Errorf("Quarantine = %v, want nil", err)
	}
}

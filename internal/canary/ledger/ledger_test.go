package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var (
	env     *controlplane.Env
	nsCount atomic.Int32
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env))
}

func newNamespace(t *testing.T) string {
	t.Helper()
	controlplane.Require(t, env)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ledger-%d-%d", os.Getpid()%1000, nsCount.Add(1))}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// cluster is a namespace holding what applied a Canary: a GitRepository
// with its Secret, and a Stack that lists the Canary in its inventory.
type cluster struct {
	ns     string
	canary *v1alpha1.Canary
	stack  *v1alpha1.Stack
}

func newCluster(t *testing.T, f *fleet, password string) *cluster {
	t.Helper()
	ctx := context.Background()
	ns := newNamespace(t)
	c := env.Client
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-creds"},
		Data: map[string][]byte{"username": []byte(gitUser), "password": []byte(password)}}
	src := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.GitRepositorySpec{URL: f.srv.RepoURL("fleet"), Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &v1alpha1.LocalObjectReference{Name: "git-creds"}}}
	stack := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"},
		Spec: v1alpha1.StackSpec{SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Interval: metav1.Duration{Duration: time.Hour}}}
	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo",
		Labels: map[string]string{apply.OwnerNameLabel: "apps", apply.OwnerNamespaceLabel: ns}},
		Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "podinfo"}, Service: v1alpha1.CanaryService{Port: 80},
			Ledger: &v1alpha1.CanaryLedger{Push: true}}}
	for _, err := range []error{c.Create(ctx, secret), c.Create(ctx, src), c.Create(ctx, stack), c.Create(ctx, cn)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &cluster{ns: ns, canary: cn, stack: stack}
}

// applied records in the Stack's status that it applied commit, with the
// Canary in its inventory.
func (cl *cluster) applied(t *testing.T, commit string) {
	t.Helper()
	cl.stack.Status.LastAppliedRevision = "main@sha1:" + commit
	cl.stack.Status.Inventory = []v1alpha1.InventoryEntry{{Group: "flotilla.io", Version: "v1alpha1", Kind: "Canary", Namespace: cl.ns, Name: "podinfo"}}
	if err := env.Client.Status().Update(context.Background(), cl.stack); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerWritesOnTheCommitTheStackApplied(t *testing.T) {
	f := newFleet(t)
	cl := newCluster(t, f, gitPassword)
	cl.applied(t, f.commit)
	l := ledger.New(env.Client, ledger.NewStore(ledger.WithDir(t.TempDir())))
	entries := []canary.LedgerEntry{
		entry(cl.ns+"/podinfo", v1alpha1.CanaryPhaseProgressing, 10, "advanced to 10%"),
		entry(cl.ns+"/podinfo", v1alpha1.CanaryPhaseFailed, 0, "rolled back: request-success-rate failed 5 times"),
	}
	commit, err := l.Write(context.Background(), cl.canary, entries)
	if err != nil || commit != f.commit {
		t.Fatalf("Write = %q, %v; want %s", commit, err, f.commit)
	}
	log := f.gitLog(t)
	for _, want := range []string{"Progressing weight 10% failed 0: advanced to 10%", "Failed weight 0% failed 0: rolled back: request-success-rate failed 5 times"} {
		if !strings.Contains(log, cl.ns+"/podinfo "+want) {
			t.Errorf("git log misses %q:\n%s", want, log)
		}
	}
}

func TestLedgerOffWritesNothing(t *testing.T) {
	f := newFleet(t)
	cl := newCluster(t, f, gitPassword)
	cl.canary.Spec.Ledger = nil
	commit, err := ledger.New(env.Client, ledger.NewStore()).Write(context.Background(), cl.canary,
		[]canary.LedgerEntry{entry("x/y", v1alpha1.CanaryPhaseFailed, 0, "x")})
	if commit != "" || err != nil {
		t.Errorf("Write = %q, %v; want nothing", commit, err)
	}
	if refs := f.wd.Git(t, "ls-remote", "origin", "refs/notes/*"); refs != "" {
		t.Errorf("notes pushed: %s", refs)
	}
}

func TestLedgerErrorsNameWhatIsMissing(t *testing.T) {
	f := newFleet(t)
	cases := []struct {
		name   string
		mutate func(t *testing.T, cl *cluster)
		is     error
		says   string
	}{
		{"no Stack label", func(t *testing.T, cl *cluster) { cl.canary.Labels = nil }, ledger.ErrNoStack, "has no label stack.flotilla.io/name"},
		{"Stack not applied yet", func(t *testing.T, cl *cluster) {}, ledger.ErrNotApplied, "has not applied yet"},
		{"Stack missing", func(t *testing.T, cl *cluster) { cl.canary.Labels[apply.OwnerNameLabel] = "gone" }, ledger.ErrNoStack, "Stack " + "%s/gone (label stack.flotilla.io/name) not found"},
		{"Stack does not own the Canary", func(t *testing.T, cl *cluster) {
			cl.applied(t, f.commit)
			cl.canary.Name = "impostor"
		}, ledger.ErrNoStack, "does not list the Canary in its status.inventory"},
		{"GitRepository missing", func(t *testing.T, cl *cluster) {
			cl.applied(t, f.commit)
			if err := env.Client.Delete(context.Background(), &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: cl.ns, Name: "fleet"}}); err != nil {
				t.Fatal(err)
			}
		}, ledger.ErrNoSource, "GitRepository %s/fleet (spec.sourceRef of Stack %s/apps) not found"},
		{"Secret missing", func(t *testing.T, cl *cluster) {
			cl.applied(t, f.commit)
			if err := env.Client.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cl.ns, Name: "git-creds"}}); err != nil {
				t.Fatal(err)
			}
		}, ledger.ErrNoSource, "Secret %s/git-creds (spec.secretRef of GitRepository %s/fleet) not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, f, gitPassword)
			tc.mutate(t, cl)
			_, err := ledger.New(env.Client, ledger.NewStore()).Write(context.Background(), cl.canary,
				[]canary.LedgerEntry{entry(cl.ns+"/podinfo", v1alpha1.CanaryPhaseFailed, 0, "x")})
			want := strings.ReplaceAll(tc.says, "%s", cl.ns)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant %v saying %q", err, tc.is, want)
			}
		})
	}
}

func TestLedgerWrongPasswordNeverShowsIt(t *testing.T) {
	f := newFleet(t)
	const wrong = "wrong-pw-51aa0c"
	cl := newCluster(t, f, wrong)
	cl.applied(t, f.commit)
	_, err := ledger.New(env.Client, ledger.NewStore()).Write(context.Background(), cl.canary,
		[]canary.LedgerEntry{entry(cl.ns+"/podinfo", v1alpha1.CanaryPhaseFailed, 0, "x")})
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), wrong) {
		t.Errorf("err = %v; want an authentication failure without the password", err)
	}
}

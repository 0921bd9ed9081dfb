package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// ledgerRepo is a repository on the real Git server whose commit carries
// the ledger of two rollouts of apps/podinfo and one of apps/other.
type ledgerRepo struct {
	root   *gitserver.Root
	wd     *gitserver.Workdir
	commit string
}

func newLedgerRepo(t *testing.T, remote ledger.Remote, root *gitserver.Root) *ledgerRepo {
	t.Helper()
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	wd.WriteFile(t, "apps/podinfo.yaml", "kind: Deployment\n")
	commit := wd.Commit(t, "podinfo v1.1.0")
	wd.Push(t, "main")
	at := func(min int) time.Time { return time.Date(2026, 12, 3, 17, min, 0, 0, time.UTC) }
	entries := []canary.LedgerEntry{
		{Time: at(0), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Message: "new revision: analysis started"},
		{Time: at(1), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Weight: 10, Message: "advanced to 10%",
			Metrics: []v1alpha1.MetricResult{{Name: "request-success-rate", Value: "99.9", Passed: true}}},
		{Time: at(2), Canary: "apps/other", Phase: v1alpha1.CanaryPhaseSucceeded, Message: "not ours"},
		{Time: at(3), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseProgressing, Weight: 10, FailedChecks: 1, Message: "request-success-rate 81.5 below 99"},
		{Time: at(4), Canary: "apps/podinfo", Phase: v1alpha1.CanaryPhaseFailed, FailedChecks: 2, Message: "rolled back: 2 failed checks"},
	}
	var lines []string
	for _, e := range entries {
		l, err := ledger.Format(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	// Written in two appends, newest first, to show the table sorts by time.
	s := ledger.NewStore()
	for _, part := range [][]string{lines[3:], lines[:3]} {
		if err := s.Append(context.Background(), remote, commit, "ledger", part); err != nil {
			t.Fatal(err)
		}
	}
	return &ledgerRepo{root: root, wd: wd, commit: commit}
}

func runHistory(t *testing.T, o RolloutHistoryOptions) string {
	t.Helper()
	var out bytes.Buffer
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	if err := o.Run(context.Background(), Streams{Out: &out}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestRolloutHistoryFromALocalCloneAndAURL(t *testing.T) {
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	r := newLedgerRepo(t, ledger.Remote{URL: root.FileURL("fleet")}, root)
	r.wd.Git(t, "fetch", "-q", "origin", "refs/notes/flotilla:refs/notes/flotilla")

	table := runHistory(t, RolloutHistoryOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "podinfo", Repo: r.wd.Dir(), Output: OutputTable})
	golden(t, "rollout-history.golden", strings.ReplaceAll(table, r.commit[:7], "<short>"))

	srv := gitserver.NewHTTP(t, root)
	out := runHistory(t, RolloutHistoryOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "podinfo", Repo: srv.RepoURL("fleet"), Output: OutputJSON})
	var records []ledger.Record
	if err := json.Unmarshal([]byte(out), &records); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if len(records) != 4 || records[0].Commit != r.commit || records[3].Phase != v1alpha1.CanaryPhaseFailed || records[1].Metrics[0].Value != "99.9" {
		t.Errorf("-o json records = %+v", records)
	}
	if y := runHistory(t, RolloutHistoryOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "podinfo", Repo: r.wd.Dir(), Output: OutputYAML}); !strings.Contains(y, "phase: Failed") {
		t.Errorf("-o yaml:\n%s", y)
	}
	if none := runHistory(t, RolloutHistoryOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "absent", Repo: r.wd.Dir(), Output: OutputTable}); none != "No ledger entries of Canary apps/absent in refs/notes/flotilla.\n" {
		t.Errorf("no entries: %q", none)
	}
}

func TestRolloutHistoryThroughTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: reads the Canary, Stack, GitRepository and Secret from the test control plane")
	}
	ctx := context.Background()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet-bot", "history-pw-0b7e"))
	remote := ledger.Remote{URL: srv.RepoURL("fleet"), Credentials: git.Credentials{Username: "fleet-bot", Password: "history-pw-0b7e"}}
	r := newLedgerRepo(t, remote, root)

	ns := "apps"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	stack := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"},
		Spec: v1alpha1.StackSpec{SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"}, Interval: metav1.Duration{Duration: time.Hour}}}
	objs := []error{
		env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-creds"},
			Data: map[string][]byte{"username": []byte("fleet-bot"), "password": []byte("history-pw-0b7e")}}),
		env.Client.Create(ctx, &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
			Spec: v1alpha1.GitRepositorySpec{URL: srv.RepoURL("fleet"), Interval: metav1.Duration{Duration: time.Hour},
				SecretRef: &v1alpha1.LocalObjectReference{Name: "git-creds"}}}),
		env.Client.Create(ctx, stack),
		env.Client.Create(ctx, &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo",
			Labels: map[string]string{apply.OwnerNameLabel: "apps", apply.OwnerNamespaceLabel: ns}},
			Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "podinfo"}, Service: v1alpha1.CanaryService{Port: 80}}}),
	}
	for _, err := range objs {
		if err != nil {
			t.Fatal(err)
		}
	}
	stack.Status.LastAppliedRevision = "main@sha1:" + r.commit
	stack.Status.Inventory = []v1alpha1.InventoryEntry{{Group: "flotilla.io", Version: "v1alpha1", Kind: "Canary", Namespace: ns, Name: "podinfo"}}
	if err := env.Client.Status().Update(ctx, stack); err != nil {
		t.Fatal(err)
	}
	table := runHistory(t, RolloutHistoryOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: ns}, Name: "podinfo", Output: OutputTable})
	golden(t, "rollout-history.golden", strings.ReplaceAll(table, r.commit[:7], "<short>"))

	var out bytes.Buffer
	err := (&RolloutHistoryOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: ns}, Name: "absent", Output: OutputTable, Timeout: time.Minute}).
		Run(ctx, Streams{Out: &out})
	var nf *NotFoundError
	if !errors.As(err, &nf) || err.Error() != "Canary apps/absent not found" {
		t.Errorf("absent Canary: want a *NotFoundError saying so, got %v", err)
	}
}

// TestReconcileClearsTheQuarantine: a Canary quarantines 1.1.0, the agent
// moves the policy back to 1.0.0, and `flotilla reconcile image policy
// --clear-quarantine` lets it choose 1.1.0 again.
func TestReconcileClearsTheQuarantine(t *testing.T) {
	ns, reg := newImagesAgent(t)
	image := reg.Host + "/app"
	args := []string{"-n", ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait}
	if out, errOut, err := run(t, append([]string{"reconcile", "image", "repository", "app"}, args...)...); err != nil {
		t.Fatalf("reconcile image repository: %v\n%s\n%s", err, out, errOut)
	}
	if out, errOut, err := run(t, append([]string{"reconcile", "image", "policy", "app"}, args...)...); err != nil || !strings.Contains(out, image+":1.1.0") {
		t.Fatalf("reconcile image policy: %v\n%s\n%s", err, out, errOut)
	}
	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}}
	if err := ledger.NewRollback(env.Client).Quarantine(t.Context(), cn, []string{image + ":1.1.0"}, "failed checks"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	p := &v1alpha1.ImagePolicy{}
	for {
		if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "app"}, p); err != nil {
			t.Fatal(err)
		}
		if p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "1.0.0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy did not move back to 1.0.0: %+v", p.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, errOut, err := run(t, append([]string{"reconcile", "image", "policy", "app", "--clear-quarantine"}, args...)...)
	if err != nil || !strings.Contains(out, "lifted the quarantine of 1.1.0 on ImagePolicy "+ns+"/app") || !strings.Contains(out, image+":1.1.0") {
		t.Fatalf("reconcile --clear-quarantine: %v\n%s\n%s", err, out, errOut)
	}
	if _, _, err := run(t, append([]string{"reconcile", "image", "repository", "app", "--clear-quarantine"}, args...)...); !errors.Is(err, errClearQuarantineKind) {
		t.Errorf("--clear-quarantine on a repository: %v", err)
	}
}

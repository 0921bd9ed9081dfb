package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/test/forgeserver"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// fluxTemplate is a message template as Flux's documentation writes it.
const fluxTemplate = `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
`

func markedDeployment(ns, name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s # the app
spec:
  template:
    spec:
      containers:
        - name: app
          image: %s # {"$imagepolicy": "%s:%s"}
`, name, image, ns, name)
}

func createPolicy(t *testing.T, ns, name string, labels map[string]string) {
	t.Helper()
	p := &v1alpha1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: name},
			Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatalf("creating ImagePolicy: %v", err)
	}
}

// setLatest writes an ImagePolicy's choice as the policy controller would.
func setLatest(t *testing.T, ns, name, image, tag string) {
	t.Helper()
	p := &v1alpha1.ImagePolicy{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Status.LatestRef = &v1alpha1.ImageRef{Name: image, Tag: tag}
	if err := env.Client.Status().Patch(context.Background(), p, patch); err != nil {
		t.Fatalf("setting latestRef of %s: %v", name, err)
	}
}

type imageUpdateOption func(*v1alpha1.ImageUpdate)

func createImageUpdate(t *testing.T, ns, name string, opts ...imageUpdateOption) client.ObjectKey {
	t.Helper()
	u := &v1alpha1.ImageUpdate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.ImageUpdateSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Git: v1alpha1.GitUpdateSpec{Commit: v1alpha1.CommitSpec{
				Author:          v1alpha1.CommitUser{Name: "Flotilla", Email: "flotilla@example.com"},
				MessageTemplate: fluxTemplate,
			}},
			Update:   &v1alpha1.UpdateStrategy{Strategy: "Setters", Path: "apps"},
			Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	for _, o := range opts {
		o(u)
	}
	if err := env.Client.Create(context.Background(), u); err != nil {
		t.Fatalf("creating ImageUpdate: %v", err)
	}
	return client.ObjectKeyFromObject(u)
}

// remoteHead fetches and returns the commit of branch on the server.
func (r *repo) remoteHead(t *testing.T, branch string) string {
	t.Helper()
	r.wd.Git(t, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*")
	return r.wd.Git(t, "rev-parse", "origin/"+branch)
}

func waitPushed(t *testing.T, key client.ObjectKey, after string) *v1alpha1.ImageUpdate {
	t.Helper()
	u := &v1alpha1.ImageUpdate{}
	eventually(t, "a push of "+key.String(), func() error {
		if err := get(t, key, u); err != nil {
			return err
		}
		if u.Status.LastPushCommit == "" || u.Status.LastPushCommit == after {
			return fmt.Errorf("no new push yet; conditions %+v", u.Status.Conditions)
		}
		return nil
	})
	return u
}

func TestImageUpdatePushesTheChosenImage(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	before := markedDeployment(ns, "podinfo", "ghcr.io/stefanprodan/podinfo:6.4.0")
	r.push(t, map[string]string{"apps/podinfo.yaml": before, "other/podinfo.yaml": before})
	srv := gitserver.NewHTTP(t, r.root, gitserver.WithBasicAuth("fleet", "imgupd-password-canary"))
	createSecret(t, ns, "git-auth", map[string][]byte{"username": []byte("fleet"), "password": []byte("imgupd-password-canary")})
	source := createGitRepository(t, ns, srv.RepoURL("fleet"), withSecret("git-auth"), withInterval(time.Hour))
	createPolicy(t, ns, "podinfo", nil)
	key := createImageUpdate(t, ns, "apps")
	setLatest(t, ns, "podinfo", "ghcr.io/stefanprodan/podinfo", "6.5.1")

	u := waitPushed(t, key, "")
	if got := r.remoteHead(t, "main"); got != u.Status.LastPushCommit {
		t.Fatalf("main = %s, status says %s", got, u.Status.LastPushCommit)
	}
	want := strings.Replace(before, "podinfo:6.4.0", "podinfo:6.5.1", 1)
	if got := r.wd.Git(t, "show", "origin/main:apps/podinfo.yaml") + "\n"; got != want {
		t.Errorf("apps/podinfo.yaml =\n%s\nwant only the marked value changed:\n%s", got, want)
	}
	if got := r.wd.Git(t, "show", "origin/main:other/podinfo.yaml") + "\n"; got != before {
		t.Errorf("a file outside update.path changed:\n%s", got)
	}
	wantMsg := fmt.Sprintf(`Automated image update

Automation name: %s/apps

Files:
- apps/podinfo.yaml
Objects:
- Deployment podinfo
  Changes:
    - ghcr.io/stefanprodan/podinfo:6.4.0 -> ghcr.io/stefanprodan/podinfo:6.5.1`, ns)
	if got := r.wd.Git(t, "log", "-1", "--format=%B", "origin/main"); got != wantMsg {
		t.Errorf("commit message =\n%s\nwant\n%s", got, wantMsg)
	}
	if c := meta.FindStatusCondition(u.Status.Conditions, v1alpha1.ReadyCondition); c == nil || c.Reason != controller.ReasonPushed {
		t.Errorf("Ready = %+v, want reason Pushed", c)
	}
	if got := u.Status.ObservedPolicies["podinfo"].Tag; got != "6.5.1" {
		t.Errorf("observedPolicies = %v", u.Status.ObservedPolicies)
	}
	eventually(t, "the GitRepository asked to fetch the commit", func() error {
		g := &v1alpha1.GitRepository{}
		if err := get(t, source, g); err != nil {
			return err
		}
		if g.Annotations[v1alpha1.ReconcileRequestAnnotation] == "" {
			return fmt.Errorf("no reconcile request on the GitRepository")
		}
		return nil
	})
	assertEventReason(t, ns, controller.ReasonPushed, u.Status.LastPushCommit)

	// A new choice triggers a new commit through the ImagePolicy watch.
	setLatest(t, ns, "podinfo", "ghcr.io/stefanprodan/podinfo", "6.6.0")
	next := waitPushed(t, key, u.Status.LastPushCommit)
	if parent := r.wd.Git(t, "rev-parse", r.remoteHead(t, "main")+"^"); parent != u.Status.LastPushCommit || next.Status.LastPushCommit != r.remoteHead(t, "main") {
		t.Errorf("second commit's parent = %s, want the first push %s", parent, u.Status.LastPushCommit)
	}
	assertImageUpdateNoLeak(t, ns, next, "imgupd-password-canary")
}

func assertEventReason(t *testing.T, ns, reason, contains string) {
	t.Helper()
	eventually(t, "event "+reason, func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == reason && strings.Contains(e.Note, contains) {
				return nil
			}
		}
		return fmt.Errorf("no %s event naming %q among %d", reason, contains, len(evs.Items))
	})
}

// assertImageUpdateNoLeak fails when an Event of ns or the status holds secret.
func assertImageUpdateNoLeak(t *testing.T, ns string, u *v1alpha1.ImageUpdate, secret string) {
	t.Helper()
	g := &v1alpha1.GitRepository{Status: v1alpha1.GitRepositoryStatus{Conditions: u.Status.Conditions}}
	g.Status.URL = fmt.Sprintf("%+v", u.Status)
	assertNoLeak(t, ns, g, secret)
}

// newAppsRepo pushes files to a new repository, serves it over HTTP and
// creates the GitRepository "fleet" for it; it returns the repository and
// the seed commit.
func newAppsRepo(t *testing.T, ns string, files map[string]string) (*repo, string) {
	t.Helper()
	r := newRepo(t)
	r.push(t, files)
	srv := gitserver.NewHTTP(t, r.root)
	createGitRepository(t, ns, srv.RepoURL("fleet"), withInterval(time.Hour))
	return r, r.remoteHead(t, "main")
}

func TestImageUpdateBatchesPoliciesIntoOneCommit(t *testing.T) {
	ns := newNamespace(t)
	r, seed := newAppsRepo(t, ns, map[string]string{
		"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0"),
		"apps/b.yaml": markedDeployment(ns, "b", "registry.local/b:1.0.0"),
	})
	createPolicy(t, ns, "a", map[string]string{"team": "x"})
	createPolicy(t, ns, "b", map[string]string{"team": "x"})
	createPolicy(t, ns, "c", map[string]string{"team": "y"})
	key := createImageUpdate(t, ns, "batched", func(u *v1alpha1.ImageUpdate) {
		u.Spec.Batch = &v1alpha1.BatchSpec{Window: metav1.Duration{Duration: 3 * time.Second}}
		u.Spec.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}
	})
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	eventually(t, "the batch to open", func() error {
		u := &v1alpha1.ImageUpdate{}
		if err := get(t, key, u); err != nil {
			return err
		}
		if u.Status.PendingSince == nil {
			return fmt.Errorf("no pendingSince yet")
		}
		return nil
	})
	setLatest(t, ns, "b", "registry.local/b", "2.0.0")
	setLatest(t, ns, "c", "registry.local/c", "9.9.9")
	u := waitPushed(t, key, "")
	if n := r.wd.Git(t, "rev-list", "--count", seed+".."+r.remoteHead(t, "main")); n != "1" {
		t.Fatalf("%s commits after the seed, want one for the batch", n)
	}
	diff := r.wd.Git(t, "diff", "--stat", seed, "origin/main")
	if !strings.Contains(diff, "apps/a.yaml") || !strings.Contains(diff, "apps/b.yaml") || !strings.Contains(diff, "2 files changed, 2 insertions(+), 2 deletions(-)") {
		t.Errorf("the batch commit is not both changes:\n%s", diff)
	}
	if u.Status.PendingSince != nil || len(u.Status.ObservedPolicies) != 2 {
		t.Errorf("status after the batch: pendingSince %v, observed %v (c is not selected)", u.Status.PendingSince, u.Status.ObservedPolicies)
	}
}

func TestImageUpdateStallsOnMisconfiguration(t *testing.T) {
	ns := newNamespace(t)
	r, seed := newAppsRepo(t, ns, map[string]string{"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0")})
	createPolicy(t, ns, "a", nil)
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	tests := []struct {
		name, field string
		opt         imageUpdateOption
	}{
		{name: "tag-checkout", field: "spec.git.checkout.ref", opt: func(u *v1alpha1.ImageUpdate) {
			u.Spec.Git.Checkout = &v1alpha1.GitCheckoutSpec{Ref: v1alpha1.GitRepositoryRef{Tag: "v1"}}
		}},
		{name: "bad-template", field: "spec.git.commit.messageTemplate", opt: func(u *v1alpha1.ImageUpdate) {
			u.Spec.Git.Commit.MessageTemplate = `{{ env "HOME" }}`
		}},
		{name: "other-namespace", field: "spec.sourceRef.namespace", opt: func(u *v1alpha1.ImageUpdate) {
			u.Spec.SourceRef.Namespace = "default"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := createImageUpdate(t, ns, tt.name, tt.opt)
			eventually(t, "Stalled", func() error {
				u := &v1alpha1.ImageUpdate{}
				if err := get(t, key, u); err != nil {
					return err
				}
				c := meta.FindStatusCondition(u.Status.Conditions, v1alpha1.StalledCondition)
				if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, tt.field) {
					return fmt.Errorf("stalled = %+v, want a message naming %s", c, tt.field)
				}
				return nil
			})
		})
	}
	if got := r.remoteHead(t, "main"); got != seed {
		t.Errorf("a misconfigured update pushed %s", got)
	}
}

func TestImageUpdateOpensPullRequestAndClosesItWhenSuperseded(t *testing.T) {
	ns := newNamespace(t)
	r, seed := newAppsRepo(t, ns, map[string]string{"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0")})
	forge := forgeserver.New(t, "gitea", "gitea-token-canary")
	createSecret(t, ns, "forge", map[string][]byte{"token": []byte("gitea-token-canary")})
	createPolicy(t, ns, "a", nil)
	key := createImageUpdate(t, ns, "pr", func(u *v1alpha1.ImageUpdate) {
		u.Spec.Git.Push = &v1alpha1.PushSpec{Branch: "auto/images", PullRequest: &v1alpha1.PullRequestSpec{
			Provider: "gitea", Address: forge.URL(), Repository: "org/fleet",
			SecretRef: v1alpha1.LocalObjectReference{Name: "forge"},
		}}
	})
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	u := waitPushed(t, key, "")
	if got := r.remoteHead(t, "auto/images"); got != u.Status.LastPushCommit {
		t.Fatalf("auto/images = %s, pushed %s", got, u.Status.LastPushCommit)
	}
	if r.remoteHead(t, "main") != seed {
		t.Error("main changed although a pull request was asked for")
	}
	pulls := forge.Pulls()
	if len(pulls) != 1 || pulls[0].Head != "auto/images" || pulls[0].Base != "main" || pulls[0].Title != "Automated image update" || !pulls[0].Open {
		t.Fatalf("pulls = %+v", pulls)
	}
	if u.Status.PullRequestURL != "https://forge.example/org/fleet/pulls/1" {
		t.Errorf("pullRequestURL = %q", u.Status.PullRequestURL)
	}

	// A newer choice updates the same pull request in place.
	setLatest(t, ns, "a", "registry.local/a", "1.2.0")
	waitPushed(t, key, u.Status.LastPushCommit)
	eventually(t, "the pull request updated in place", func() error {
		p := forge.Pulls()
		if len(p) != 1 || !strings.Contains(p[0].Body, "registry.local/a:1.2.0") {
			return fmt.Errorf("pulls = %+v", p)
		}
		return nil
	})

	// Someone merges the change into main by hand: the next run finds
	// nothing to change and closes the pull request.
	r.wd.Git(t, "fetch", "-q", "origin")
	r.wd.Git(t, "merge", "-q", "--ff-only", "origin/auto/images")
	r.wd.Push(t, "main")
	annotate(t, key)
	eventually(t, "the pull request closed", func() error {
		if p := forge.Pulls(); p[0].Open {
			return fmt.Errorf("still open")
		}
		return nil
	})
	assertEventReason(t, ns, controller.ReasonPullRequestClosed, "pulls/1")
	final := &v1alpha1.ImageUpdate{}
	if err := get(t, key, final); err != nil {
		t.Fatal(err)
	}
	assertImageUpdateNoLeak(t, ns, final, "gitea-token-canary")
}

// annotate asks for a reconcile now, as `flotilla reconcile` does.
func annotate(t *testing.T, key client.ObjectKey) {
	t.Helper()
	u := &v1alpha1.ImageUpdate{}
	if err := get(t, key, u); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(u.DeepCopy())
	if u.Annotations == nil {
		u.Annotations = map[string]string{}
	}
	u.Annotations[v1alpha1.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	if err := env.Client.Patch(context.Background(), u, patch); err != nil {
		t.Fatal(err)
	}
}

// TestTwoImageUpdatesOnOneBranchBothLand: two automations of one agent
// write to the same branch at the same moment (one Writer serializes them);
// a marker naming an unknown policy is reported and the others still land.
func TestTwoImageUpdatesOnOneBranchBothLand(t *testing.T) {
	ns := newNamespace(t)
	r, seed := newAppsRepo(t, ns, map[string]string{
		"apps/a.yaml":       markedDeployment(ns, "a", "registry.local/a:1.0.0"),
		"apps/b.yaml":       markedDeployment(ns, "b", "registry.local/b:1.0.0"),
		"apps/unknown.yaml": markedDeployment(ns, "missing", "registry.local/missing:1.0.0"),
	})
	createPolicy(t, ns, "a", map[string]string{"app": "a"})
	createPolicy(t, ns, "b", map[string]string{"app": "b"})
	keys := map[string]client.ObjectKey{}
	for _, app := range []string{"a", "b"} {
		keys[app] = createImageUpdate(t, ns, "update-"+app, func(u *v1alpha1.ImageUpdate) {
			u.Spec.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
		})
	}
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	setLatest(t, ns, "b", "registry.local/b", "1.1.0")
	for _, key := range keys {
		waitPushed(t, key, "")
	}
	head := r.remoteHead(t, "main")
	if n := r.wd.Git(t, "rev-list", "--count", seed+".."+head); n != "2" {
		t.Errorf("%s commits after the seed, want one per ImageUpdate", n)
	}
	for _, app := range []string{"a", "b"} {
		if got := r.wd.Git(t, "show", head+":apps/"+app+".yaml"); !strings.Contains(got, "registry.local/"+app+":1.1.0") {
			t.Errorf("the change of %s was lost:\n%s", app, got)
		}
	}
	assertEventReason(t, ns, controller.ReasonMarkerSkipped, "apps/unknown.yaml:10")
}

func TestImageUpdatePushesOverSSH(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	r.push(t, map[string]string{"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0")})
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, r.root, pub)
	createSecret(t, ns, "ssh", map[string][]byte{"identity": key, "known_hosts": srv.KnownHosts()})
	createGitRepository(t, ns, srv.RepoURL("fleet"), withSecret("ssh"), withInterval(time.Hour))
	createPolicy(t, ns, "a", nil)
	upd := createImageUpdate(t, ns, "ssh")
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	u := waitPushed(t, upd, "")
	if got := r.remoteHead(t, "main"); got != u.Status.LastPushCommit {
		t.Fatalf("main = %s, pushed %s", got, u.Status.LastPushCommit)
	}
	assertImageUpdateNoLeak(t, ns, u, strings.TrimSpace(string(key)))
}

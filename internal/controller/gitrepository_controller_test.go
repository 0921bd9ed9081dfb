package controller_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// repo is a bare repository with a working copy to push from.
type repo struct {
	root *gitserver.Root
	wd   *gitserver.Workdir
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	return &repo{root: root, wd: gitserver.NewWorkdir(t, root.Path("fleet"))}
}

// push commits files on the current branch and pushes it; it returns the SHA.
func (r *repo) push(t *testing.T, files map[string]string, refspecs ...string) string {
	t.Helper()
	for p, c := range files {
		r.wd.WriteFile(t, p, c)
	}
	sha := r.wd.Commit(t, "update")
	if len(refspecs) == 0 {
		refspecs = []string{"main"}
	}
	r.wd.Push(t, refspecs...)
	return sha
}

type gitRepoOption func(*v1alpha1.GitRepository)

func withSecret(name string) gitRepoOption {
	return func(g *v1alpha1.GitRepository) { g.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: name} }
}

func withRef(ref v1alpha1.GitRepositoryRef) gitRepoOption {
	return func(g *v1alpha1.GitRepository) { g.Spec.Ref = &ref }
}

func withInterval(d time.Duration) gitRepoOption {
	return func(g *v1alpha1.GitRepository) { g.Spec.Interval = metav1.Duration{Duration: d} }
}

func createGitRepository(t *testing.T, ns, url string, opts ...gitRepoOption) client.ObjectKey {
	t.Helper()
	g := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Second}},
	}
	for _, o := range opts {
		o(g)
	}
	if err := env.Client.Create(context.Background(), g); err != nil {
		t.Fatalf("creating GitRepository: %v", err)
	}
	return client.ObjectKeyFromObject(g)
}

func createSecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatalf("creating secret: %v", err)
	}
}

// waitRevision waits for Ready=True at revision and returns the object.
func waitRevision(t *testing.T, key client.ObjectKey, revision string) *v1alpha1.GitRepository {
	t.Helper()
	obj := &v1alpha1.GitRepository{}
	eventually(t, "Ready at "+revision, func() error {
		if err := get(t, key, obj); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition)
		if ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("ready condition: %+v", ready)
		}
		if obj.Status.Artifact == nil || obj.Status.Artifact.Revision != revision {
			return fmt.Errorf("artifact: %+v", obj.Status.Artifact)
		}
		if obj.Status.ObservedGeneration != obj.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", obj.Status.ObservedGeneration, obj.Generation)
		}
		return nil
	})
	return obj
}

// waitNotReady waits for Ready=False with reason and returns the object.
func waitNotReady(t *testing.T, key client.ObjectKey, reason string) *v1alpha1.GitRepository {
	t.Helper()
	obj := &v1alpha1.GitRepository{}
	eventually(t, "Ready=False with reason "+reason, func() error {
		if err := get(t, key, obj); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition)
		if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != reason {
			return fmt.Errorf("ready condition: %+v", ready)
		}
		return nil
	})
	return obj
}

func readyMessage(obj *v1alpha1.GitRepository) string {
	return meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition).Message
}

func artifactFile(t *testing.T, obj *v1alpha1.GitRepository, rel string) (string, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, obj.Status.Artifact.Path, rel))
	return string(b), err
}

// assertNoLeak fails when any Event of ns or the object's status carries secret.
func assertNoLeak(t *testing.T, ns string, obj *v1alpha1.GitRepository, secret string) {
	t.Helper()
	forms := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	texts := []string{fmt.Sprintf("%+v", obj.Status)}
	for _, e := range evs.Items {
		texts = append(texts, e.Note, e.Reason)
	}
	for _, text := range texts {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("secret value found in %q", text)
			}
		}
	}
}

func TestGitRepositoryHTTPBasicAuthFollowsPushes(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	const password = "marker-pw-7f3b9c1e"
	srv := gitserver.NewHTTP(t, r.root, gitserver.WithBasicAuth("fleet", password))
	first := r.push(t, map[string]string{"clusters/prod/app.yaml": "replicas: 1\n"})
	createSecret(t, ns, "git-auth", map[string][]byte{"username": []byte("fleet"), "password": []byte(password)})
	key := createGitRepository(t, ns, srv.RepoURL("fleet"), withSecret("git-auth"))

	obj := waitRevision(t, key, "main@sha1:"+first)
	if !strings.HasPrefix(obj.Status.Artifact.Digest, "sha256:") {
		t.Errorf("digest = %q", obj.Status.Artifact.Digest)
	}
	if got, err := artifactFile(t, obj, "clusters/prod/app.yaml"); err != nil || got != "replicas: 1\n" {
		t.Errorf("artifact file = %q, %v", got, err)
	}
	if obj.Status.URL != srv.RepoURL("fleet") {
		t.Errorf("status.url = %q", obj.Status.URL)
	}

	second := r.push(t, map[string]string{"clusters/prod/app.yaml": "replicas: 3\n"})
	obj = waitRevision(t, key, "main@sha1:"+second)
	if got, _ := artifactFile(t, obj, "clusters/prod/app.yaml"); got != "replicas: 3\n" {
		t.Errorf("artifact after push = %q", got)
	}

	var secret corev1.Secret
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "git-auth"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data["password"] = []byte("marker-wrong-4d2a8e")
	if err := env.Client.Update(context.Background(), &secret); err != nil {
		t.Fatal(err)
	}
	obj = waitNotReady(t, key, v1alpha1.ReasonAuthenticationFailed)
	msg := readyMessage(obj)
	if !strings.Contains(msg, srv.RepoURL("fleet")) {
		t.Errorf("message must name the URL: %q", msg)
	}
	if obj.Status.Artifact.Revision != "main@sha1:"+second {
		t.Errorf("last good artifact must stay: %s", obj.Status.Artifact.Revision)
	}
	if _, err := artifactFile(t, obj, "clusters/prod/app.yaml"); err != nil {
		t.Errorf("last good artifact files must stay: %v", err)
	}
	assertNoLeak(t, ns, obj, password)
	assertNoLeak(t, ns, obj, "marker-wrong-4d2a8e")
}

func TestGitRepositorySSH(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, r.root, pub)
	sha := r.push(t, map[string]string{"a.yaml": "a: 1\n"})
	createSecret(t, ns, "ssh", map[string][]byte{"identity": key, "known_hosts": srv.KnownHosts()})
	k := createGitRepository(t, ns, srv.RepoURL("fleet"), withSecret("ssh"))
	obj := waitRevision(t, k, "main@sha1:"+sha)
	assertNoLeak(t, ns, obj, string(key))
}

func TestGitRepositorySSHUnknownHostKeyRefused(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	key, pub := gitserver.NewClientKey(t)
	srv := gitserver.NewSSH(t, r.root, pub)
	impostor := gitserver.NewSSH(t, r.root, pub)
	r.push(t, map[string]string{"a.yaml": "a: 1\n"})
	// known_hosts pins srv's key, but the URL points at the impostor's port.
	pinned := strings.Replace(string(srv.KnownHosts()), srv.Addr(), impostor.Addr(), 1)
	createSecret(t, ns, "ssh", map[string][]byte{"identity": key, "known_hosts": []byte(pinned)})
	k := createGitRepository(t, ns, impostor.RepoURL("fleet"), withSecret("ssh"))
	obj := waitNotReady(t, k, v1alpha1.ReasonAuthenticationFailed)
	if msg := readyMessage(obj); !strings.Contains(msg, "host key") {
		t.Errorf("message must say the host key is not trusted: %q", msg)
	}
	if obj.Status.Artifact != nil {
		t.Errorf("nothing may be fetched from an untrusted host: %+v", obj.Status.Artifact)
	}
}

func TestGitRepositoryRefKinds(t *testing.T) {
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	first := r.push(t, map[string]string{"v": "1"})
	r.wd.Tag(t, "v1.0.0", true)
	second := r.push(t, map[string]string{"v": "2"})
	r.wd.Tag(t, "v1.1.0", false)
	r.wd.Push(t, "--tags")
	cases := []struct {
		name     string
		ref      v1alpha1.GitRepositoryRef
		revision string
	}{
		{"branch", v1alpha1.GitRepositoryRef{Branch: "main"}, "main@sha1:" + second},
		{"tag", v1alpha1.GitRepositoryRef{Tag: "v1.0.0"}, "v1.0.0@sha1:" + first},
		{"semver", v1alpha1.GitRepositoryRef{SemVer: "^1.0.0"}, "v1.1.0@sha1:" + second},
		{"commit", v1alpha1.GitRepositoryRef{Branch: "main", Commit: first}, "main@sha1:" + first},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			k := createGitRepository(t, ns, srv.RepoURL("fleet"), withRef(tc.ref))
			waitRevision(t, k, tc.revision)
		})
	}
}

func TestGitRepositoryForcePushAndDeletedBranch(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	r.push(t, map[string]string{"a": "1"})
	second := r.push(t, map[string]string{"a": "2"})
	r.wd.Checkout(t, "release", true)
	r.wd.Push(t, "release")
	k := createGitRepository(t, ns, srv.RepoURL("fleet"), withRef(v1alpha1.GitRepositoryRef{Branch: "release"}))
	waitRevision(t, k, "release@sha1:"+second)

	r.wd.ResetHard(t, "HEAD~1")
	rewritten := r.push(t, map[string]string{"a": "rewritten"}, "+release")
	obj := waitRevision(t, k, "release@sha1:"+rewritten)
	if got, _ := artifactFile(t, obj, "a"); got != "rewritten" {
		t.Errorf("artifact after force push = %q", got)
	}

	r.wd.DeleteRemoteBranch(t, "release")
	obj = waitNotReady(t, k, v1alpha1.ReasonRefNotFound)
	if !strings.Contains(readyMessage(obj), "release") {
		t.Errorf("message must name the branch: %q", readyMessage(obj))
	}
	if obj.Status.Artifact.Revision != "release@sha1:"+rewritten {
		t.Errorf("last good artifact must stay, got %s", obj.Status.Artifact.Revision)
	}
	if got, err := artifactFile(t, obj, "a"); err != nil || got != "rewritten" {
		t.Errorf("last good artifact files must stay: %q %v", got, err)
	}
}

func TestGitRepositoryServerGoneKeepsLastArtifact(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root)
	sha := r.push(t, map[string]string{"a": "1"})
	k := createGitRepository(t, ns, srv.RepoURL("fleet"))
	waitRevision(t, k, "main@sha1:"+sha)
	srv.Close()
	obj := waitNotReady(t, k, v1alpha1.ReasonGitOperationFailed)
	msg := readyMessage(obj)
	if !strings.Contains(msg, srv.RepoURL("fleet")) || !strings.Contains(msg, "still serving revision main@sha1:"+sha) {
		t.Errorf("message must name the URL and the revision still served: %q", msg)
	}
	if got, err := artifactFile(t, obj, "a"); err != nil || got != "1" {
		t.Errorf("last artifact must stay on disk: %q %v", got, err)
	}
}

func TestGitRepositoryIgnoreRules(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	sha := r.push(t, map[string]string{
		"app.yaml":        "a: 1\n",
		"docs/readme.md":  "# docs\n",
		"logo.png":        "png",
		"secret.env":      "X=1\n",
		".flotillaignore": "docs/\n",
		"sub/keep.yaml":   "k: 1\n",
		"sub/drop.tmp":    "tmp",
	})
	ignore := "*.env\n*.tmp\n"
	k := createGitRepository(t, ns, r.root.FileURL("fleet"), func(g *v1alpha1.GitRepository) { g.Spec.Ignore = &ignore })
	obj := waitRevision(t, k, "main@sha1:"+sha)
	for path, want := range map[string]bool{"app.yaml": true, "sub/keep.yaml": true, "docs/readme.md": false, "logo.png": false, "secret.env": false, "sub/drop.tmp": false} {
		_, err := artifactFile(t, obj, path)
		if got := err == nil; got != want {
			t.Errorf("%s stored = %v, want %v", path, got, want)
		}
	}
}

func TestGitRepositoryReconcileRequestFetchesNow(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	first := r.push(t, map[string]string{"a": "1"})
	k := createGitRepository(t, ns, r.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, k, "main@sha1:"+first)
	second := r.push(t, map[string]string{"a": "2"})

	obj := &v1alpha1.GitRepository{}
	if err := get(t, k, obj); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(obj.DeepCopy())
	obj.SetAnnotations(map[string]string{v1alpha1.ReconcileRequestAnnotation: "2026-11-23T10:00:00Z"})
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	obj = waitRevision(t, k, "main@sha1:"+second)
	if obj.Status.LastHandledReconcileAt != "2026-11-23T10:00:00Z" {
		t.Errorf("lastHandledReconcileAt = %q", obj.Status.LastHandledReconcileAt)
	}
}

func TestGitRepositorySecretCreatedLater(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	srv := gitserver.NewHTTP(t, r.root, gitserver.WithBasicAuth("u", "late-secret-pw"))
	sha := r.push(t, map[string]string{"a": "1"})
	k := createGitRepository(t, ns, srv.RepoURL("fleet"), withSecret("late"), withInterval(time.Hour))
	obj := waitNotReady(t, k, v1alpha1.ReasonSecretNotFound)
	if !strings.Contains(readyMessage(obj), ns+"/late") {
		t.Errorf("message must name the secret: %q", readyMessage(obj))
	}
	createSecret(t, ns, "late", map[string][]byte{"username": []byte("u"), "password": []byte("late-secret-pw")})
	waitRevision(t, k, "main@sha1:"+sha) // the Secret watch triggers it; the interval is an hour
}

func TestGitRepositoryInvalidSemverIsStalled(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	r.push(t, map[string]string{"a": "1"})
	k := createGitRepository(t, ns, r.root.FileURL("fleet"), withRef(v1alpha1.GitRepositoryRef{SemVer: "not a range"}))
	obj := waitNotReady(t, k, v1alpha1.ReasonInvalidSpec)
	if !meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.StalledCondition) {
		t.Errorf("an invalid range must be Stalled: %+v", obj.Status.Conditions)
	}
}

func TestGitRepositorySuspendAndDelete(t *testing.T) {
	ns := newNamespace(t)
	r := newRepo(t)
	first := r.push(t, map[string]string{"a": "1"})
	k := createGitRepository(t, ns, r.root.FileURL("fleet"))
	obj := waitRevision(t, k, "main@sha1:"+first)
	artifactDir := filepath.Join(dataDir, obj.Status.Artifact.Path)

	patch := client.MergeFrom(obj.DeepCopy())
	obj.Spec.Suspend = true
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "suspend observed", func() error {
		if err := get(t, k, obj); err != nil {
			return err
		}
		if obj.Status.ObservedGeneration != obj.Generation {
			return fmt.Errorf("not observed yet")
		}
		return nil
	})
	r.push(t, map[string]string{"a": "2"})
	time.Sleep(2500 * time.Millisecond) // two intervals: a suspended source must not move
	if err := get(t, k, obj); err != nil {
		t.Fatal(err)
	}
	if obj.Status.Artifact.Revision != "main@sha1:"+first {
		t.Errorf("suspended source moved to %s", obj.Status.Artifact.Revision)
	}

	if err := env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deletion", func() error {
		if err := get(t, k, &v1alpha1.GitRepository{}); err == nil {
			return fmt.Errorf("still present")
		}
		if _, err := os.Stat(artifactDir); err == nil {
			return fmt.Errorf("artifact %s still on disk", artifactDir)
		}
		return nil
	})
}

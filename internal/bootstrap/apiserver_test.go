package bootstrap

import (
	"context"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

const (
	bootUser     = "fleet-bot"
	bootPassword = "b00tstrap-pa55word-marker"
)

// gitShow returns path at rev in the bare repository dir.
func gitShow(t *testing.T, dir, rev, path string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", dir, "show", rev+":"+path).CombinedOutput()
	if err != nil {
		t.Fatalf("git show %s:%s: %v\n%s", rev, path, err, out)
	}
	return string(out)
}

// assertNoPassword fails t when text holds the password, in clear or in
// base64.
func assertNoPassword(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{bootPassword, base64.StdEncoding.EncodeToString([]byte(bootPassword))} {
		if strings.Contains(text, s) {
			t.Errorf("%s carries the password: %q", where, text)
		}
	}
}

// TestRunAgainstTheAPIServerAndAGitServer bootstraps a real kube-apiserver
// from an HTTP Git server with basic auth: the first run writes, commits
// and pushes the directory and creates every object; the second changes
// nothing; a directory holding an object another Stack owns is refused.
func TestRunAgainstTheAPIServerAndAGitServer(t *testing.T) {
	env := controlplane.StartBare(t)
	root, _ := seed(t)
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth(bootUser, bootPassword))
	o := DefaultOptions()
	o.URL, o.Path, o.Branch = srv.RepoURL("fleet"), "clusters/staging", "main"
	o.Username, o.Password, o.Wait = bootUser, bootPassword, false
	ctx := context.Background()
	var lines []string
	progress := func(s string) { lines = append(lines, s) }

	res, err := Run(ctx, env.Config, o, progress)
	if err != nil {
		t.Fatalf("first Run: %v\nprogress:\n%s", err, strings.Join(lines, "\n"))
	}
	t.Run("the-first-run-commits-and-pushes-the-directory", func(t *testing.T) {
		if !res.Committed || res.Commit == "" {
			t.Fatalf("result %+v, want a pushed commit", res)
		}
		head := strings.TrimSpace(gitShowRef(t, root.Path("fleet"), "refs/heads/main"))
		if head != res.Commit {
			t.Errorf("main is at %s, want the reported commit %s", head, res.Commit)
		}
		for _, f := range []string{ComponentsFile, SyncFile, KustomizationFile} {
			body := gitShow(t, root.Path("fleet"), res.Commit, "clusters/staging/"+f)
			assertNoPassword(t, f, body)
		}
		if sync := gitShow(t, root.Path("fleet"), res.Commit, "clusters/staging/"+SyncFile); !strings.Contains(sync, "path: ./clusters/staging") {
			t.Errorf("%s does not point the root Stack at the directory:\n%s", SyncFile, sync)
		}
		if seeded := gitShow(t, root.Path("fleet"), res.Commit, "clusters/prod/kustomization.yaml"); seeded != "resources: []\n" {
			t.Errorf("the commit lost the branch's other files: clusters/prod/kustomization.yaml = %q", seeded)
		}
	})
	t.Run("the-objects-are-in-the-cluster", func(t *testing.T) {
		c := env.Client
		var secret corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: o.SecretName}, &secret); err != nil {
			t.Fatal(err)
		}
		if string(secret.Data["username"]) != bootUser || string(secret.Data["password"]) != bootPassword {
			t.Errorf("Secret data keys %v, want the username and password the GitRepository reads", keys(secret.Data))
		}
		var gr v1alpha1.GitRepository
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: o.SourceName}, &gr); err != nil {
			t.Fatal(err)
		}
		if gr.Spec.URL != o.URL || gr.Spec.SecretRef == nil || gr.Spec.SecretRef.Name != o.SecretName {
			t.Errorf("GitRepository spec %+v, want the URL and the Secret", gr.Spec)
		}
		var st v1alpha1.Stack
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: o.StackName}, &st); err != nil {
			t.Fatal(err)
		}
		if st.Spec.Path != "./clusters/staging" || !st.Spec.Prune {
			t.Errorf("root Stack spec %+v, want path ./clusters/staging with prune", st.Spec)
		}
		sa := &corev1.ServiceAccount{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: install.AgentName}, sa); err != nil {
			t.Fatal(err)
		}
		if got := sa.Labels[apply.OwnerNameLabel] + "@" + sa.Labels[apply.OwnerNamespaceLabel]; got != o.StackName+"@"+o.Install.Namespace {
			t.Errorf("the agent's ServiceAccount is owned by %q, want the root Stack, which applies it from Git", got)
		}
		if res.Changes.Count(apply.Created) == 0 {
			t.Errorf("changes %+v, want objects created", res.Changes.Changes)
		}
	})
	t.Run("nothing-shows-the-password", func(t *testing.T) {
		assertNoPassword(t, "progress", strings.Join(lines, "\n"))
	})

	t.Run("a-second-run-changes-nothing", func(t *testing.T) {
		var again []string
		res2, err := Run(ctx, env.Config, o, func(s string) { again = append(again, s) })
		if err != nil {
			t.Fatal(err)
		}
		if res2.Committed || res2.Commit != res.Commit {
			t.Errorf("second run: committed %t at %s, want nothing committed and main still at %s", res2.Committed, res2.Commit, res.Commit)
		}
		for _, ch := range res2.Changes.Changes {
			if ch.Action != apply.Unchanged {
				t.Errorf("second run: %s %s, want unchanged", ch.Object, ch.Action)
			}
		}
		if !strings.Contains(strings.Join(again, "\n"), "clusters/staging exists on branch main: nothing to commit") {
			t.Errorf("second run progress does not say the directory exists:\n%s", strings.Join(again, "\n"))
		}
	})

	t.Run("an-object-of-another-stack-in-the-directory-is-refused", func(t *testing.T) {
		other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "team-settings", Namespace: "default",
			Labels: map[string]string{apply.OwnerNameLabel: "apps", apply.OwnerNamespaceLabel: "team-a"}}}
		if err := env.Client.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		wd := gitserver.NewWorkdir(t, root.Path("fleet"))
		wd.Git(t, "pull", "origin", "main")
		wd.WriteFile(t, "clusters/taken/kustomization.yaml", "resources:\n  - settings.yaml\n")
		wd.WriteFile(t, "clusters/taken/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-settings\n  namespace: default\n")
		wd.Commit(t, "a directory holding team-a's ConfigMap")
		wd.Push(t, "main")
		taken := o
		taken.Path, taken.StackName = "clusters/taken", "taken"
		_, err := Run(ctx, env.Config, taken, nil)
		if err == nil {
			t.Fatal("Run took over an object another Stack owns")
		}
		for _, want := range []string{"ConfigMap/default/team-settings", "clusters/taken", "Stack team-a/apps"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		assertNoPassword(t, "error", err.Error())
		var st v1alpha1.Stack
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: "taken"}, &st); err == nil {
			t.Error("the refused run created its root Stack")
		}
	})
}

// TestRunAgainstTheAPIServerEdges: a new branch, another root Stack over
// the same agent, a wrong password, and a wait no agent answers.
func TestRunAgainstTheAPIServerEdges(t *testing.T) {
	env := controlplane.StartBare(t)
	root, seeded := seed(t)
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth(bootUser, bootPassword))
	o := DefaultOptions()
	o.URL, o.Path, o.Branch = srv.RepoURL("fleet"), "clusters/edge", "edge-next"
	o.Username, o.Password, o.Wait = bootUser, bootPassword, false
	ctx := context.Background()

	t.Run("a-wrong-password-applies-nothing-and-is-not-shown", func(t *testing.T) {
		wrong := o
		wrong.Password = "wr0ng-" + bootPassword
		res, err := Run(ctx, env.Config, wrong, nil)
		if err == nil {
			t.Fatal("Run with a wrong password succeeded")
		}
		if !strings.Contains(err.Error(), "cloning "+srv.RepoURL("fleet")) || !strings.Contains(err.Error(), "check the URL and the credentials") {
			t.Errorf("error %q, want it to name the repository and what to check", err)
		}
		assertNoPassword(t, "error", err.Error())
		if len(res.Changes.Changes) != 0 || res.Committed {
			t.Errorf("a run that could not clone did something: %+v", res)
		}
	})

	res, err := Run(ctx, env.Config, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a-missing-branch-is-created-on-top-of-the-default-one", func(t *testing.T) {
		if !res.Committed {
			t.Fatalf("result %+v, want the directory committed", res)
		}
		if head := strings.TrimSpace(gitShowRef(t, root.Path("fleet"), "refs/heads/edge-next")); head != res.Commit {
			t.Errorf("edge-next is at %s, want %s", head, res.Commit)
		}
		if parent := strings.TrimSpace(gitShowRef(t, root.Path("fleet"), res.Commit+"^")); parent != seeded {
			t.Errorf("the commit's parent is %s, want main's head %s", parent, seeded)
		}
		if main := strings.TrimSpace(gitShowRef(t, root.Path("fleet"), "refs/heads/main")); main != seeded {
			t.Errorf("main moved to %s, want it left at %s", main, seeded)
		}
		var gr v1alpha1.GitRepository
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: o.SourceName}, &gr); err != nil {
			t.Fatal(err)
		}
		if gr.Spec.Ref == nil || gr.Spec.Ref.Branch != "edge-next" {
			t.Errorf("GitRepository ref %+v, want branch edge-next", gr.Spec.Ref)
		}
	})

	t.Run("another-root-stack-over-the-same-agent-is-refused-naming-every-object", func(t *testing.T) {
		other := o
		other.Path, other.StackName = "clusters/other", "other-root"
		_, err := Run(ctx, env.Config, other, nil)
		if err == nil {
			t.Fatal("a second root Stack took over the agent")
		}
		for _, want := range []string{
			"ServiceAccount/flotilla-system/" + install.AgentName + " in clusters/other is already managed by the Stack flotilla-system/cluster",
			"Deployment/flotilla-system/" + install.AgentName,
			"Namespace/flotilla-system",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %q:\n%v", want, err)
			}
		}
	})

	t.Run("over-ssh-the-scanned-host-key-is-reported-and-stored", func(t *testing.T) {
		key, pub := gitserver.NewClientKey(t)
		sshSrv := gitserver.NewSSH(t, root, pub)
		viaSSH := o
		viaSSH.URL, viaSSH.Username, viaSSH.Password, viaSSH.PrivateKey = sshSrv.RepoURL("fleet"), "", "", key
		var lines []string
		res, err := Run(ctx, env.Config, viaSSH, func(s string) { lines = append(lines, s) })
		if err != nil {
			t.Fatalf("Run over ssh: %v", err)
		}
		if !strings.HasPrefix(res.HostKeyFingerprint, "SHA256:") {
			t.Errorf("HostKeyFingerprint = %q, want the scanned key's SHA256", res.HostKeyFingerprint)
		}
		progress := strings.Join(lines, "\n")
		if !strings.Contains(progress, "ssh host key of "+sshSrv.Addr()+": "+res.HostKeyFingerprint) {
			t.Errorf("progress does not report the fingerprint:\n%s", progress)
		}
		if strings.Contains(progress, "PRIVATE KEY") || strings.Contains(progress, string(key[40:80])) {
			t.Errorf("progress shows the private key:\n%s", progress)
		}
		var secret corev1.Secret
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Install.Namespace, Name: o.SecretName}, &secret); err != nil {
			t.Fatal(err)
		}
		if string(secret.Data["identity"]) != string(key) || string(secret.Data["known_hosts"]) != string(sshSrv.KnownHosts()) {
			t.Errorf("Secret keys %v, want the identity and the scanned known_hosts", keys(secret.Data))
		}
	})

	t.Run("a-wait-no-agent-answers-times-out-naming-the-stack", func(t *testing.T) {
		waiting := o
		waiting.Wait, waiting.Timeout = true, 2*time.Second
		res, err := Run(ctx, env.Config, waiting, nil)
		if err == nil {
			t.Fatal("the wait for a root Stack no agent reconciles succeeded")
		}
		if !strings.Contains(err.Error(), "the root Stack flotilla-system/cluster was not Ready after 2s") {
			t.Errorf("error %q, want it to name the Stack and the timeout", err)
		}
		if res.Revision != "" {
			t.Errorf("Revision = %q, want none without a Ready Stack", res.Revision)
		}
	})
}

// gitShowRef returns the commit ref points at in the bare repository dir.
func gitShowRef(t *testing.T, dir, ref string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", dir, "rev-parse", ref).CombinedOutput()
	if err != nil {
		t.Fatalf("git rev-parse %s: %v\n%s", ref, err, out)
	}
	return string(out)
}

// keys returns the keys of a Secret's data, for messages that must not
// show its values.
func keys(data map[string][]byte) []string {
	var out []string
	for k := range data {
		out = append(out, k)
	}
	return out
}

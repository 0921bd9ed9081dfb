// Package e2e runs the real flotilla binary against a real control plane and
// real Git servers, as a user would.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

var (
	env *controlplane.Env
	// flotillaBin is the binary built once by TestMain.
	flotillaBin string
)

const (
	// waitTimeout bounds every wait for the agent to converge.
	waitTimeout = 60 * time.Second
	// pollInterval is how often a wait looks again.
	pollInterval = 250 * time.Millisecond
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "flotilla-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "creating a directory for the binary:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		if flotillaBin, err = buildBinary(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return controlplane.RunTests(m, &env)
}

// buildBinary builds cmd/flotilla into dir and returns its path.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "flotilla")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/flotilla")
	cmd.Dir = controlplane.ModuleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/flotilla: %w\n%s", err, out)
	}
	return bin, nil
}

// TestAgentFetchesGitRepositoryOverHTTPWithBasicAuth is the first issue's
// "Done when", end to end: the agent binary fetches a private repository,
// follows new commits, reports refused credentials without leaking them, and
// serves health and metrics.
func TestAgentFetchesGitRepositoryOverHTTPWithBasicAuth(t *testing.T) {
	controlplane.Require(t, env)
	ctx := context.Background()
	password := "flotilla-e2e-password-" + randomHex(t)
	wrongPassword := "flotilla-e2e-wrong-password-" + randomHex(t)

	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	srv := gitserver.NewHTTP(t, root, gitserver.WithBasicAuth("fleet", password))
	repoURL := srv.RepoURL("fleet")
	// Pushes go straight to the bare repository so no credential is ever
	// written into the workdir's configuration.
	work := gitserver.NewWorkdir(t, root.Path("fleet"))
	const file = "clusters/dev/configmap.yaml"
	firstContent := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  version: \"1\"\n"
	work.WriteFile(t, file, firstContent)
	firstSHA := work.Commit(t, "first")
	work.Push(t, "main")

	agent := startAgent(t)

	ns := newNamespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-auth"},
		Data:       map[string][]byte{"username": []byte("fleet"), "password": []byte(password)},
	}
	mustCreate(t, secret)
	repo := &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.GitRepositorySpec{
			URL:       repoURL,
			Interval:  metav1.Duration{Duration: 2 * time.Second},
			Ref:       &v1alpha1.GitRepositoryRef{Branch: "main"},
			SecretRef: &v1alpha1.LocalObjectReference{Name: secret.Name},
		},
	}
	mustCreate(t, repo)
	key := client.ObjectKeyFromObject(repo)

	// 1. The first commit is fetched and stored.
	got := waitForArtifact(t, key, "main@sha1:"+firstSHA)
	if !strings.HasPrefix(got.Status.Artifact.Digest, "sha256:") {
		t.Errorf("status.artifact.digest = %q, want a sha256:<hex> digest", got.Status.Artifact.Digest)
	}
	assertArtifactFile(t, agent.dataDir, got.Status.Artifact, file, firstContent)

	// 2. GET /healthz answers 200.
	assertHTTPStatus(t, "http://"+agent.healthAddr+"/healthz", http.StatusOK)

	// 3. A new commit on main is followed.
	secondContent := strings.Replace(firstContent, `"1"`, `"2"`, 1)
	work.WriteFile(t, file, secondContent)
	secondSHA := work.Commit(t, "second")
	work.Push(t, "main")
	got = waitForArtifact(t, key, "main@sha1:"+secondSHA)
	assertArtifactFile(t, agent.dataDir, got.Status.Artifact, file, secondContent)
	lastGood := *got.Status.Artifact

	// 4. A wrong password is reported, with the last good artifact kept.
	secret.Data["password"] = []byte(wrongPassword)
	if err := env.Client.Update(ctx, secret); err != nil {
		t.Fatalf("updating Secret %s/%s with a wrong password: %v", ns, secret.Name, err)
	}
	got, ready := waitForReady(t, key, metav1.ConditionFalse, v1alpha1.ReasonAuthenticationFailed)
	if !strings.Contains(ready.Message, repoURL) {
		t.Errorf("Ready message %q does not name the repository %s", ready.Message, repoURL)
	}
	assertNoSecrets(t, "the Ready condition message", ready.Message, "fleet", password, wrongPassword)
	if got.Status.Artifact == nil || got.Status.Artifact.Revision != lastGood.Revision {
		t.Errorf("after the authentication failure status.artifact = %+v, want the last good revision %s kept",
			got.Status.Artifact, lastGood.Revision)
	}
	assertArtifactFile(t, agent.dataDir, &lastGood, file, secondContent)

	// 5. Metrics count successes and failures.
	assertMetrics(t, "http://"+agent.metricsAddr+"/metrics",
		`flotilla_reconcile_total{kind="GitRepository",result="success"}`,
		`flotilla_reconcile_total{kind="GitRepository",result="failure"}`)

	// 6. Neither password leaks into events or logs.
	assertEventsClean(t, ns, "fleet", password, wrongPassword)
	logs := agent.log.String()
	if strings.TrimSpace(logs) == "" {
		t.Error("the agent wrote no log output; expected JSON log lines on stderr")
	}
	assertNoSecrets(t, "the agent's log output", logs, "fleet", password, wrongPassword)
}

// agentProcess is a running `flotilla agent`.
type agentProcess struct {
	dataDir     string
	metricsAddr string
	healthAddr  string
	log         *syncBuffer
	cmd         *exec.Cmd
}

// startAgent runs the binary against the control plane; it is killed at cleanup.
func startAgent(t *testing.T, extraArgs ...string) *agentProcess {
	t.Helper()
	a := &agentProcess{
		dataDir:     t.TempDir(),
		metricsAddr: freeAddr(t),
		healthAddr:  freeAddr(t),
		log:         &syncBuffer{},
	}
	args := append([]string{"agent",
		"--kubeconfig", env.Kubeconfig,
		"--data-dir", a.dataDir,
		"--metrics-addr", a.metricsAddr,
		"--health-addr", a.healthAddr,
		"--webhook-addr", "127.0.0.1:0",
		"--allow-file-urls", // some fleets here are served from file:// URLs
		"--log-format", "json"}, extraArgs...)
	cmd := exec.Command(flotillaBin, args...)
	a.cmd = cmd
	cmd.Stdout, cmd.Stderr = a.log, a.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s agent: %v", flotillaBin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("agent output:\n%s", a.log.String())
		}
	})
	return a
}

// waitForArtifact waits until the GitRepository is Ready with revision stored.
func waitForArtifact(t *testing.T, key client.ObjectKey, revision string) *v1alpha1.GitRepository {
	t.Helper()
	var obj v1alpha1.GitRepository
	eventually(t, fmt.Sprintf("GitRepository %s to be Ready with artifact revision %s", key, revision), func() (bool, string) {
		if err := env.Client.Get(context.Background(), key, &obj); err != nil {
			return false, err.Error()
		}
		ready := readyCondition(&obj)
		done := ready != nil && ready.Status == metav1.ConditionTrue &&
			obj.Status.Artifact != nil && obj.Status.Artifact.Revision == revision
		return done, describe(&obj)
	})
	return &obj
}

// waitForReady waits until Ready has status and reason, and returns the
// object and that condition.
func waitForReady(t *testing.T, key client.ObjectKey, status metav1.ConditionStatus, reason string) (*v1alpha1.GitRepository, metav1.Condition) {
	t.Helper()
	var obj v1alpha1.GitRepository
	eventually(t, fmt.Sprintf("GitRepository %s to be Ready=%s with reason %s", key, status, reason), func() (bool, string) {
		if err := env.Client.Get(context.Background(), key, &obj); err != nil {
			return false, err.Error()
		}
		ready := readyCondition(&obj)
		return ready != nil && ready.Status == status && ready.Reason == reason, describe(&obj)
	})
	return &obj, *readyCondition(&obj)
}

// eventually polls cond until it reports done, failing the test with cond's
// last description of the state after waitTimeout.
func eventually(t *testing.T, what string, cond func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", waitTimeout, what, state)
		}
		time.Sleep(pollInterval)
	}
}

func readyCondition(obj *v1alpha1.GitRepository) *metav1.Condition {
	for i, c := range obj.Status.Conditions {
		if c.Type == v1alpha1.ReadyCondition {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

// describe renders the status fields a failed wait should show.
func describe(obj *v1alpha1.GitRepository) string {
	var b strings.Builder
	fmt.Fprintf(&b, "generation=%d observedGeneration=%d", obj.Generation, obj.Status.ObservedGeneration)
	for _, c := range obj.Status.Conditions {
		fmt.Fprintf(&b, "; %s=%s reason=%s message=%q", c.Type, c.Status, c.Reason, c.Message)
	}
	if a := obj.Status.Artifact; a != nil {
		fmt.Fprintf(&b, "; artifact revision=%s digest=%s path=%s", a.Revision, a.Digest, a.Path)
	} else {
		b.WriteString("; no artifact")
	}
	return b.String()
}

// assertArtifactFile checks that the artifact directory holds rel with want.
func assertArtifactFile(t *testing.T, dataDir string, a *v1alpha1.Artifact, rel, want string) {
	t.Helper()
	if a.Path == "" || filepath.IsAbs(a.Path) {
		t.Fatalf("status.artifact.path = %q, want a path relative to the data directory", a.Path)
	}
	p := filepath.Join(dataDir, filepath.FromSlash(a.Path), filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("artifact %s of revision %s should hold the pushed file %s: %v", a.Path, a.Revision, rel, err)
	}
	if string(data) != want {
		t.Fatalf("artifact file %s of revision %s =\n%s\nwant the pushed content\n%s", p, a.Revision, data, want)
	}
}

// assertHTTPStatus checks that GET url answers want.
func assertHTTPStatus(t *testing.T, url string, want int) {
	t.Helper()
	status, body, err := httpGet(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if status != want {
		t.Fatalf("GET %s answered %d, want %d; body: %s", url, status, want, body)
	}
}

// assertMetrics waits until the metrics page has a sample of every series.
func assertMetrics(t *testing.T, url string, series ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s to report %v", url, series), func() (bool, string) {
		status, body, err := httpGet(url)
		if err != nil || status != http.StatusOK {
			return false, fmt.Sprintf("status %d, error %v", status, err)
		}
		var missing []string
		for _, s := range series {
			if !strings.Contains(body, s+" ") {
				missing = append(missing, s)
			}
		}
		return len(missing) == 0, fmt.Sprintf("missing %v in:\n%s", missing, grepLines(body, "flotilla_"))
	})
}

func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// assertEventsClean waits for the authentication failure to be recorded as
// an Event, then checks that no Event in ns, read through both the core/v1
// and the events.k8s.io/v1 API, carries a password.
func assertEventsClean(t *testing.T, ns, user string, passwords ...string) {
	t.Helper()
	ctx := context.Background()
	var modern eventsv1.EventList
	eventually(t, "a Warning event with reason "+v1alpha1.ReasonAuthenticationFailed+" in namespace "+ns, func() (bool, string) {
		if err := env.Client.List(ctx, &modern, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range modern.Items {
			if e.Type == corev1.EventTypeWarning && e.Reason == v1alpha1.ReasonAuthenticationFailed {
				return true, ""
			}
			seen = append(seen, e.Type+"/"+e.Reason)
		}
		return false, fmt.Sprintf("events seen: %v", seen)
	})
	var core corev1.EventList
	if err := env.Client.List(ctx, &core, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing core/v1 Events in %s: %v", ns, err)
	}
	if len(core.Items) == 0 {
		t.Errorf("core/v1 lists no Events in %s, while events.k8s.io/v1 lists %d", ns, len(modern.Items))
	}
	for _, e := range core.Items {
		assertNoSecrets(t, "core/v1 Event "+e.Name, toJSON(t, e), user, passwords...)
	}
	for _, e := range modern.Items {
		assertNoSecrets(t, "events.k8s.io/v1 Event "+e.Name, toJSON(t, e), user, passwords...)
	}
}

// assertNoSecrets checks that text holds none of the passwords, in clear, in
// base64, or as the base64 of a basic-auth header for user.
func assertNoSecrets(t *testing.T, where, text, user string, passwords ...string) {
	t.Helper()
	for _, p := range passwords {
		for form, s := range secretForms(user, p) {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the password %s (%s): %s", where, p, form, excerpt(text, s))
			}
		}
	}
}

func secretForms(user, password string) map[string]string {
	basic := []byte(user + ":" + password)
	return map[string]string{
		"in clear":               password,
		"base64":                 base64.StdEncoding.EncodeToString([]byte(password)),
		"unpadded base64":        base64.RawStdEncoding.EncodeToString([]byte(password)),
		"url-safe base64":        base64.RawURLEncoding.EncodeToString([]byte(password)),
		"basic-auth header":      base64.StdEncoding.EncodeToString(basic),
		"unpadded basic-auth":    base64.RawStdEncoding.EncodeToString(basic),
		"url-safe basic-auth":    base64.RawURLEncoding.EncodeToString(basic),
		"credentials in the url": user + ":" + password + "@",
	}
}

// excerpt returns the text around the first occurrence of s.
func excerpt(text, s string) string {
	i := strings.Index(text, s)
	start, end := max(i-200, 0), min(i+len(s)+200, len(text))
	return text[start:end]
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %T: %v", v, err)
	}
	return string(b)
}

// newNamespace creates a namespace with a unique name, deleted at cleanup.
func newNamespace(t *testing.T) string {
	t.Helper()
	controlplane.Require(t, env)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-agent-"}}
	mustCreate(t, ns)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}

// freeAddr returns a 127.0.0.1 address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.Cmd
// and the test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/flotilla-io/flotilla/test/sopstest"
)

// The canary fleet: one cluster whose root Stack applies the Stack
// "secrets", which decrypts apps/secrets with the age key of sops-age.
const (
	canaryNS        = "flotilla-system"
	canaryAppNS     = "canary-app"
	canarySecret    = "apps/secrets/db.yaml"
	canaryStack     = "secrets"
	canaryKeySecret = "sops-age"
)

var canaryFleet = map[string]string{
	"clusters/dev/kustomization.yaml": "resources:\n  - secrets.yaml\n",
	"clusters/dev/secrets.yaml": `apiVersion: flotilla.io/v1alpha1
kind: Stack
metadata:
  name: secrets
  namespace: flotilla-system
spec:
  sourceRef:
    kind: GitRepository
    name: fleet
  path: ./apps/secrets
  interval: 1m
  retryInterval: 2s
  prune: true
  wait: true
  decryption:
    provider: sops
    secretRef:
      name: sops-age
`,
	"apps/secrets/kustomization.yaml": "resources:\n  - namespace.yaml\n  - db.yaml\n",
	"apps/secrets/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + canaryAppNS + "\n",
}

// TestSOPSCanaryAppearsNowhere is the canary-secret test of docs/secrets.md:
// marker values kept SOPS-encrypted in Git reach the cluster decrypted, and
// appear in no agent log line (at debug level), event, status, alert
// (a local Slack), metric, `flotilla diff`, `plan` or `build` output, in
// clear or in base64. The agent applies two values, fails on a revision
// encrypted for another key (a failure alert) and recovers (a resolved
// alert); the CLI previews a third value.
func TestSOPSCanaryAppearsNowhere(t *testing.T) {
	controlplane.Require(t, env)
	sopstest.Require(t)
	cp := startControlPlane(t)
	key, otherKey := sopstest.NewAgeKey(t), sopstest.NewAgeKey(t)
	markers := []string{"sops-canary-applied-" + randomHex(t), "sops-canary-rotated-" + randomHex(t),
		"sops-canary-otherkey-" + randomHex(t), "sops-canary-preview-" + randomHex(t)}
	encrypt := func(value string, k sopstest.AgeKey) string {
		plain := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: %s\nstringData:\n  password: %s\ndata:\n  token: %s\n",
			canaryAppNS, value, base64.StdEncoding.EncodeToString([]byte("token-"+value)))
		return string(sopstest.Encrypt(t, "db.yaml", []byte(plain), sopstest.Recipients{Age: []string{k.Recipient}, EncryptedRegex: "^(data|stringData)$"}))
	}

	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	for p, content := range canaryFleet {
		wd.WriteFile(t, p, content)
	}
	wd.WriteFile(t, canarySecret, encrypt(markers[0], key))
	first := wd.Commit(t, "an encrypted Secret")
	wd.Push(t, "main")

	slack := startCanarySlack(t)
	createCanaryObjects(t, cp.Client, root.FileURL("fleet"), key, slack.URL)
	agent := startAgent(t, "--kubeconfig", cp.Kubeconfig, "--log-level", "debug")
	stackKey := client.ObjectKey{Namespace: canaryNS, Name: canaryStack}

	// 1. Applied decrypted.
	waitStackApplied(t, cp.Client, stackKey, "main@sha1:"+first)
	assertCanarySecret(t, cp.Client, markers[0])

	// 2. Rotated: a change the agent applies (events, metrics of a change).
	second := pushFile(t, wd, cp.Client, canarySecret, encrypt(markers[1], key), "rotate")
	waitStackApplied(t, cp.Client, stackKey, "main@sha1:"+second)
	assertCanarySecret(t, cp.Client, markers[1])

	// 3. Encrypted for a key the agent lacks: DecryptionFailed, a failure alert.
	third := pushFile(t, wd, cp.Client, canarySecret, encrypt(markers[2], otherKey), "encrypted for another key")
	cond := waitStackFailed(t, cp.Client, stackKey, "main@sha1:"+third)
	if cond.Reason != v1alpha1.ReasonDecryptionFailed {
		t.Errorf("Ready = %s %s: %s, want %s", cond.Status, cond.Reason, cond.Message, v1alpha1.ReasonDecryptionFailed)
	}
	slack.waitFor(t, "a failure message", "#a30200")

	// 4. Fixed: applied again, a resolved alert.
	fourth := pushFile(t, wd, cp.Client, canarySecret, encrypt(markers[2], key), "encrypted for the right key")
	waitStackApplied(t, cp.Client, stackKey, "main@sha1:"+fourth)
	assertCanarySecret(t, cp.Client, markers[2])
	slack.waitFor(t, "a resolved message", "#2eb886")

	// 5. The CLI: diff a fourth value in the checkout against the cluster
	// (keys from the cluster, then from a file), plan the rotation, build.
	keys := filepath.Join(t.TempDir(), "dev.agekey")
	if err := os.WriteFile(keys, []byte(key.Identity+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wd.WriteFile(t, canarySecret, encrypt(markers[3], key))
	kube := []string{"--kubeconfig", cp.Kubeconfig, "-n", canaryNS}
	outputs := map[string]string{
		"flotilla diff stack (keys from the cluster)": runFlotilla(t, 1, append([]string{"diff", "stack", canaryStack, "--path", wd.Dir()}, kube...)...),
		"flotilla diff stack --decryption-keys":       runFlotilla(t, 1, append([]string{"diff", "stack", canaryStack, "--path", wd.Dir(), "--decryption-keys", keys}, kube...)...),
		"flotilla plan":                               runFlotilla(t, 2, "plan", "--repo", wd.Dir(), "--base", first, "--head", second, "--source", canaryNS+"/fleet", "--decryption-keys", keys),
		"flotilla build":                              runFlotilla(t, 0, "build", "--path", filepath.Join(wd.Dir(), "apps", "secrets"), "--decryption-keys", keys),
		"flotilla events":                             runFlotilla(t, 0, append([]string{"events"}, kube...)...),
		"flotilla get stacks":                         runFlotilla(t, 0, append([]string{"get", "stacks", "-o", "yaml"}, kube...)...),
	}
	for what, out := range outputs {
		if previews := strings.HasPrefix(what, "flotilla diff") || what == "flotilla plan"; previews && !strings.Contains(out, "password") {
			t.Errorf("%s does not name the changed key password:\n%s", what, out)
		}
		if strings.HasPrefix(what, "flotilla diff") && !strings.Contains(out, "<masked: changed, after>") {
			t.Errorf("%s does not show the changed value masked:\n%s", what, out)
		}
	}

	// 6. Every surface, searched for every marker.
	_, metrics, err := httpGet("http://" + agent.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scraping the agent's metrics: %v", err)
	}
	outputs["the agent's /metrics"] = metrics
	outputs["the agent's log (debug level)"] = agent.log.String()
	outputs["the Slack messages"] = slack.bodies()
	for what, text := range clusterSurfaces(t, cp.Client) {
		outputs[what] = text
	}
	// The search finds the marker where it must be: in the Secret itself.
	var applied corev1.Secret
	if err := cp.Client.Get(context.Background(), client.ObjectKey{Namespace: canaryAppNS, Name: "db"}, &applied); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, form := range secretForms("", markers[2]) {
		found = found || strings.Contains(toJSON(t, applied), form)
	}
	if !found {
		t.Errorf("the search does not find the canary in the Secret that holds it: it would miss a leak")
	}
	if !strings.Contains(outputs["the agent's log (debug level)"], canaryStack) {
		t.Errorf("the agent's log never names the Stack %s: was it captured?", canaryStack)
	}
	for what, text := range outputs {
		for _, m := range markers {
			assertNoSecrets(t, what, text, "", m, "token-"+m)
		}
	}
}

// createCanaryObjects creates the agent's decryption key, the Slack
// Provider and an Alert on every Stack event, the GitRepository and the
// root Stack.
func createCanaryObjects(t *testing.T, c client.Client, url string, key sopstest.AgeKey, slackURL string) {
	t.Helper()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: canaryNS}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: canaryKeySecret}, Data: map[string][]byte{"dev.agekey": []byte(key.Identity)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: "slack"}, StringData: map[string]string{"address": slackURL + "/services/dev"}},
		&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: "slack"}, Spec: v1alpha1.ProviderSpec{
			Type: v1alpha1.ProviderSlack, Channel: "#fleet", SecretRef: &v1alpha1.LocalObjectReference{Name: "slack"}}},
		&v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: "everything"}, Spec: v1alpha1.AlertSpec{
			ProviderRef: v1alpha1.LocalObjectReference{Name: "slack"}, EventSeverity: v1alpha1.EventSeverityInfo,
			EventSources: []v1alpha1.EventSourceReference{{Kind: v1alpha1.StackKind, Name: "*"}, {Kind: v1alpha1.GitRepositoryKind, Name: "*"}}}},
		&v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: "fleet"},
			Spec: v1alpha1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}}},
		&v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: canaryNS, Name: "cluster"}, Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      "./clusters/dev", Interval: metav1.Duration{Duration: time.Minute}, Prune: true}},
	} {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

func assertCanarySecret(t *testing.T, c client.Client, want string) {
	t.Helper()
	if got := secretData(t, c, canaryAppNS, "db", "password"); got != want {
		t.Errorf("Secret %s/db holds a %d-byte password, want the %d-byte marker decrypted", canaryAppNS, len(got), len(want))
	}
}

// clusterSurfaces returns, as JSON, what the API server holds about the
// agent's work: every event (both APIs, all namespaces) and the status of
// every Flotilla object.
func clusterSurfaces(t *testing.T, c client.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	lists := map[string]client.ObjectList{
		"core/v1 events":            &corev1.EventList{},
		"events.k8s.io/v1 events":   &eventsv1.EventList{},
		"Stacks":                    &v1alpha1.StackList{},
		"GitRepositories":           &v1alpha1.GitRepositoryList{},
		"Alerts (pending included)": &v1alpha1.AlertList{},
		"Providers":                 &v1alpha1.ProviderList{},
	}
	out := map[string]string{}
	for what, l := range lists {
		if err := c.List(ctx, l); err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
		out[what] = toJSON(t, l)
	}
	return out
}

// runFlotilla runs the CLI and returns its output, failing the test when
// the exit code is not wantCode (diff: 1 for changes; plan: 2 for changes).
func runFlotilla(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	cmd := exec.Command(flotillaBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code != wantCode {
		t.Errorf("flotilla %s: exit code %d (%v), want %d:\n%s", strings.Join(args, " "), code, err, wantCode, out.String())
	}
	return out.String()
}

// canarySlack is a local Slack incoming webhook that keeps every message.
type canarySlack struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func startCanarySlack(t *testing.T) *canarySlack {
	t.Helper()
	s := &canarySlack{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			http.Error(w, "not a Slack message", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.seen = append(s.seen, string(b))
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *canarySlack) bodies() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.seen, "\n")
}

// waitFor waits for a message whose body holds substr (a Slack colour).
func (s *canarySlack) waitFor(t *testing.T, what, substr string) {
	t.Helper()
	eventually(t, what+" at the local Slack", func() (bool, string) {
		b := s.bodies()
		return strings.Contains(b, substr), b
	})
}

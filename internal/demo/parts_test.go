package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

func TestWithDefaults(t *testing.T) {
	got := Options{}.withDefaults()
	if diff := cmp.Diff(DefaultClusters, got.Clusters); diff != "" {
		t.Errorf("clusters (-want +got):\n%s", diff)
	}
	if got.Wait != defaultWait || got.Out != io.Discard {
		t.Errorf("Wait = %s, Out = %v; want %s and io.Discard", got.Wait, got.Out, defaultWait)
	}
	var buf bytes.Buffer
	set := Options{Clusters: []string{"staging"}, Wait: time.Second, Out: &buf}.withDefaults()
	if !cmp.Equal(set.Clusters, []string{"staging"}) || set.Wait != time.Second || set.Out != &buf {
		t.Errorf("withDefaults overrode given options: %+v", set)
	}
	if empty := (Options{Clusters: []string{}}).withDefaults(); len(empty.Clusters) != 0 {
		t.Errorf("an explicit empty cluster list became %v", empty.Clusters)
	}
}

func TestCompactDropsClustersThatDidNotStart(t *testing.T) {
	a, b := &cluster{name: "a"}, &cluster{name: "b"}
	got := compact([]*cluster{nil, a, nil, b, nil})
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("compact = %v, want [a b] in order", got)
	}
	if got := compact(nil); len(got) != 0 {
		t.Errorf("compact(nil) = %v", got)
	}
}

func TestShort(t *testing.T) {
	for in, want := range map[string]string{
		"0123456789abcdef0123456789abcdef01234567": "0123456789abcdef0123456789abcdef01234567"[:shortSHALength],
		"abc": "abc",
		"":    "",
	} {
		if got := short(in); got != want {
			t.Errorf("short(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSinceRounds(t *testing.T) {
	if d := since(time.Now().Add(-1500 * time.Millisecond)); d%(100*time.Millisecond) != 0 || d < 1500*time.Millisecond {
		t.Errorf("since(1.5s ago) = %s, want a multiple of 100ms, at least 1.5s", d)
	}
	// Under a second (unless this machine stalled), whole milliseconds.
	if d := since(time.Now().Add(-20 * time.Millisecond)); d%time.Millisecond != 0 || (d >= time.Second && d%(100*time.Millisecond) != 0) {
		t.Errorf("since(20ms ago) = %s, want whole milliseconds under a second, tenths above", d)
	}
}

// recordingReporter keeps the lines of a Reporter.
type recordingReporter struct{ steps, waits []string }

func (r *recordingReporter) Step(format string, args ...any) {
	r.steps = append(r.steps, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (r *recordingReporter) Waiting(format string, args ...any) {
	r.waits = append(r.waits, fmt.Sprintf(format, args...))
}

func TestMakeDirAndTeardownOfATemporaryDirectory(t *testing.T) {
	f := &fleet{o: Options{Report: &recordingReporter{}}.withDefaults()}
	if err := f.makeDir(); err != nil {
		t.Fatal(err)
	}
	if f.kubeconfig != filepath.Join(f.dir, "kubeconfig") {
		t.Errorf("kubeconfig = %q, want it in %s", f.kubeconfig, f.dir)
	}
	fi, err := os.Stat(f.dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the demo's directory: %v, mode %v; want 0700 (it holds kubeconfigs)", err, fi.Mode())
	}
	if err := f.teardown(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("teardown left the temporary directory %s: %v", f.dir, err)
	}
}

func TestTeardownKeepsAGivenDirectoryAndJoinsStopErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	rep := &recordingReporter{}
	f := &fleet{o: Options{Dir: dir, Report: rep}.withDefaults()}
	if err := f.makeDir(); err != nil {
		t.Fatal(err)
	}
	stopped := 0
	f.stops = []func() error{
		func() error { stopped++; return nil },
		func() error { stopped++; return errors.New("prometheus did not stop") },
	}
	err := f.teardown()
	if err == nil || !strings.Contains(err.Error(), "prometheus did not stop") {
		t.Errorf("err = %v, want the stop error", err)
	}
	if stopped != 2 {
		t.Errorf("%d of 2 stops ran", stopped)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("teardown removed the directory the user gave: %v", err)
	}
	if len(rep.waits) != 0 {
		t.Errorf("teardown with nothing started said %q", rep.waits)
	}
}

func TestNodeClusterIsTheOneWithANode(t *testing.T) {
	f := &fleet{clusters: []*cluster{{name: "a"}, {name: "b"}}}
	if c := f.nodeCluster(); c != nil {
		t.Errorf("nodeCluster = %s without a node", c.name)
	}
	if f.clusterNamed("b") != f.clusters[1] || f.clusterNamed("zz") != nil {
		t.Errorf("clusterNamed does not find b, or finds zz")
	}
}

func TestHasNodeAssets(t *testing.T) {
	dir := t.TempDir()
	if hasNodeAssets(dir) {
		t.Error("an empty directory has the node's binaries")
	}
	for _, bin := range nodeBinaries[:len(nodeBinaries)-1] {
		if err := os.WriteFile(filepath.Join(dir, bin), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if hasNodeAssets(dir) {
		t.Errorf("a directory without %s has the node's binaries", nodeBinaries[len(nodeBinaries)-1])
	}
	last := filepath.Join(dir, nodeBinaries[len(nodeBinaries)-1])
	if err := os.Mkdir(last, 0o755); err != nil {
		t.Fatal(err)
	}
	if hasNodeAssets(dir) {
		t.Error("a directory in place of a binary counts as the binary")
	}
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(last, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if !hasNodeAssets(dir) {
		t.Error("every binary is there, yet hasNodeAssets is false")
	}
}

func TestCachedAssetsDir(t *testing.T) {
	suffix := filepath.Join("testenv", "kube-"+KubeVersion+"-etcd-"+EtcdVersion)
	t.Setenv("FLOTILLA_CACHE", "/cache/flotilla")
	if got := cachedAssetsDir(); got != filepath.Join("/cache/flotilla", suffix) {
		t.Errorf("with FLOTILLA_CACHE: %q", got)
	}
	t.Setenv("FLOTILLA_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got := cachedAssetsDir(); got != filepath.Join("/xdg", "flotilla", suffix) {
		t.Errorf("with XDG_CACHE_HOME: %q", got)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if got := cachedAssetsDir(); got != filepath.Join("/home/someone", ".cache", "flotilla", suffix) {
		t.Errorf("with HOME only: %q", got)
	}
}

// The demo's edits of examples/fleet must still apply to it: when the
// example changes, these fail here instead of in the middle of the demo.
func TestTheDemoEditsApplyToTheExampleFleet(t *testing.T) {
	work := t.TempDir()
	if err := copyFleet(work); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(work, filepath.FromSlash(brokenFile)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), brokenOld) {
		t.Errorf("%s lacks %q: the alerts step cannot break it", brokenFile, brokenOld)
	}
	if err := pointAtRegistry(work, "127.0.0.1:5000"); err != nil {
		t.Fatalf("pointAtRegistry on the example fleet: %v", err)
	}
	apps, _ := os.ReadFile(filepath.Join(work, filepath.FromSlash(stagingApps)))
	if !strings.Contains(string(apps), "newName: 127.0.0.1:5000/example-app") {
		t.Errorf("%s does not name the local registry:\n%s", stagingApps, apps)
	}
	imgs, _ := os.ReadFile(filepath.Join(work, filepath.FromSlash(stagingImages)))
	for _, want := range []string{"image: 127.0.0.1:5000/example-app", "interval: 2s", "name: " + registrySecret, "name: " + registryCASecret} {
		if !strings.Contains(string(imgs), want) {
			t.Errorf("%s lacks %q:\n%s", stagingImages, want, imgs)
		}
	}
	// A second run finds nothing to replace and says which file.
	err = pointAtRegistry(work, "127.0.0.1:5000")
	if err == nil || !strings.Contains(err.Error(), "does not contain") {
		t.Errorf("a second pointAtRegistry = %v, want a does-not-contain error", err)
	}
}

func TestReplaceInFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.yaml")
	if err := os.WriteFile(p, []byte("a: 1\na: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceInFile(p, "a: 1", "a: 2"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "a: 2\na: 1\n" {
		t.Errorf("file = %q, want only the first occurrence replaced", got)
	}
	if err := replaceInFile(p, "b: 3", "x"); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want one naming %s", err, p)
	}
	if err := replaceInFile(filepath.Join(t.TempDir(), "absent"), "a", "b"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestCanaryManifestsParseStrictly(t *testing.T) {
	var cn v1alpha1.Canary
	if err := yaml.UnmarshalStrict([]byte(canaryYAML("http://prometheus:9090")), &cn); err != nil {
		t.Fatalf("the demo's Canary does not parse: %v", err)
	}
	if cn.Name != canaryName || cn.Spec.MetricsServer != "http://prometheus:9090" || cn.Spec.TargetRef.Name != canaryName {
		t.Errorf("Canary = %s, metricsServer %q, target %q", cn.Name, cn.Spec.MetricsServer, cn.Spec.TargetRef.Name)
	}
	if cn.Spec.Analysis.Iterations != 3 || cn.Spec.Analysis.Threshold != 2 || len(cn.Spec.Analysis.Metrics) != 1 {
		t.Errorf("analysis = %+v, want 3 iterations, threshold 2 and one metric", cn.Spec.Analysis)
	}

	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(canaryDeploymentYAML("registry/app:v2", 35)), &d); err != nil {
		t.Fatalf("the demo's Deployment does not parse: %v", err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != "registry/app:v2" || c.Env[0].Name != "APP_ERROR_PERCENT" || c.Env[0].Value != "35" {
		t.Errorf("container = image %q, env %+v", c.Image, c.Env)
	}
	if d.Spec.Replicas != nil {
		t.Errorf("replicas = %d: the Canary scales its target, the manifest must not", *d.Spec.Replicas)
	}
	if d.Spec.Selector.MatchLabels["app"] != d.Spec.Template.Labels["app"] {
		t.Errorf("the selector %v does not select the template's labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
}

func TestReadyMessageAndKeyOf(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cn := &v1alpha1.Canary{Status: v1alpha1.CanaryStatus{Phase: v1alpha1.CanaryPhase("Progressing"), Iterations: 2, FailedChecks: 1, LastStepAt: &at}}
	if got := readyMessage(cn); got != "Progressing" {
		t.Errorf("readyMessage without conditions = %q", got)
	}
	cn.Status.Conditions = []metav1.Condition{
		{Type: "Other", Message: "not this"},
		{Type: v1alpha1.ReadyCondition, Message: "analysing step 2"},
	}
	if got := readyMessage(cn); got != "Progressing (analysing step 2)" {
		t.Errorf("readyMessage = %q", got)
	}
	k := keyOf(cn)
	if k.iterations != 2 || k.failures != 1 || !k.at.Equal(at.Time) {
		t.Errorf("keyOf = %+v", k)
	}
	cn.Status.LastStepAt = nil
	if !keyOf(cn).at.IsZero() {
		t.Error("keyOf without a step has a time")
	}
}

func TestSlackSinkCountsMessagesPerClusterAndKind(t *testing.T) {
	var out bytes.Buffer
	s := &slackSink{out: &out, kind: map[string][]string{}}
	post := func(path, body string) int {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		return w.Code
	}
	if code := post("/services/staging", `{"text":"hello failed","attachments":[{"color":"#a30200"}]}`); code != http.StatusOK {
		t.Fatalf("status = %d", code)
	}
	if code := post("/services/staging", `{"text":"hello recovered","attachments":[{"color":"#2eb886"}]}`); code != http.StatusOK {
		t.Fatalf("status = %d", code)
	}
	if code := post("/services/prod", `{"text":"no attachment"}`); code != http.StatusOK {
		t.Fatalf("status = %d", code)
	}
	if code := post("/services/prod", `not json`); code != http.StatusBadRequest {
		t.Errorf("a body that is not a Slack message: status %d, want 400", code)
	}
	clusters := []*cluster{{name: "staging"}, {name: "prod"}, {name: "dev"}}
	missing, total := s.missing(clusters, notify.KindFailure)
	if diff := cmp.Diff([]string{"dev"}, missing); diff != "" || total != 2 {
		t.Errorf("failures: missing (-want +got) %s, total %d, want 2", diff, total)
	}
	missing, total = s.missing(clusters, notify.KindResolved)
	if diff := cmp.Diff([]string{"prod", "dev"}, missing); diff != "" || total != 1 {
		t.Errorf("resolved: missing (-want +got) %s, total %d, want 1", diff, total)
	}
	for _, want := range []string{"[staging] hello failed", "[staging] hello recovered", "[prod] no attachment"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the sink did not print %q:\n%s", want, out.String())
		}
	}
}

func TestStartSlackSinkServes(t *testing.T) {
	s, err := startSlackSink("127.0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	resp, err := http.Post(s.url+"/services/staging", "application/json", strings.NewReader(`{"text":"x","attachments":[{"color":"#a30200"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if missing, _ := s.missing([]*cluster{{name: "staging"}}, notify.KindFailure); len(missing) != 0 {
		t.Errorf("the served sink did not count the message: missing %v", missing)
	}
	if _, err := startSlackSink("not a host name", io.Discard); err == nil || !strings.Contains(err.Error(), "the demo's Slack") {
		t.Errorf("err = %v, want one naming the demo's Slack", err)
	}
}

func TestPostSignedSignsAsGitHubDoes(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main","after":"abc"}`)
	var got http.Header
	var gotBody []byte
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotBody = r.Header.Clone(), mustRead(r.Body)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	h := hook{cluster: &cluster{name: "staging"}, url: srv.URL + "/hook/x", token: "webhook-key"}
	if err := postSigned(context.Background(), h, body); err != nil {
		t.Fatal(err)
	}
	if sig := got.Get("X-Hub-Signature-256"); sig != "sha256="+notify.Sign([]byte("webhook-key"), body) {
		t.Errorf("signature = %q", sig)
	}
	if got.Get("X-GitHub-Event") != "push" || got.Get("Content-Type") != "application/json" || !bytes.Equal(gotBody, body) {
		t.Errorf("headers %v, body %q", got, gotBody)
	}
	status = http.StatusUnauthorized
	if err := postSigned(context.Background(), h, body); err == nil || err.Error() != "HTTP 401" {
		t.Errorf("a refused webhook: err = %v, want HTTP 401", err)
	}
}

func mustRead(r io.Reader) []byte {
	b, _ := io.ReadAll(r)
	return b
}

func TestRepoHost(t *testing.T) {
	for raw, want := range map[string]string{
		"http://10.0.0.7:3000/fleet.git": "10.0.0.7",
		"http://[::1]:3000/fleet.git":    "::1",
		"":                               "127.0.0.1",
		"::not a url":                    "127.0.0.1",
	} {
		f := &fleet{repo: &fleetRepo{url: raw}}
		if got := f.repoHost(); got != want {
			t.Errorf("repoHost(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestRandomPasswordIsFreshAndLongEnough(t *testing.T) {
	a, b := randomPassword(), randomPassword()
	if len(a) != 24 || a == b {
		t.Errorf("passwords %q and %q: want 24 hex characters, different each time", a, b)
	}
}

func TestFleetRepoServesTheExampleWithCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test runs git and git http-backend")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	ctx := context.Background()
	customized := false
	r, err := newFleetRepo(ctx, t.TempDir(), "127.0.0.1", func(work string) error {
		customized = true
		return os.WriteFile(filepath.Join(work, "CUSTOM"), []byte("x"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if !customized {
		t.Error("customize was not called")
	}
	first, err := r.head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.edit("clusters/staging/kustomization.yaml", "absent text", "x"); err == nil || !strings.Contains(err.Error(), "clusters/staging/kustomization.yaml") {
		t.Errorf("edit of absent text: %v, want an error naming the file", err)
	}
	if err := r.edit(brokenFile, brokenOld, brokenNew); err != nil {
		t.Fatal(err)
	}
	second, err := r.commitAndPush(ctx, brokenMessage)
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := r.head(ctx); head != second || second == first {
		t.Errorf("served main = %s after pushing %s (first %s)", head, second, first)
	}

	// A clone with the credentials sees both commits; without them, 401.
	u, _ := url.Parse(r.url)
	u.User = url.UserPassword(r.username, r.password)
	clone := filepath.Join(t.TempDir(), "clone")
	if _, err := r.git(ctx, "", "clone", "-q", u.String(), clone); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(clone, "CUSTOM")); err != nil {
		t.Errorf("the customized file is not in the clone: %v", err)
	}
	if _, err := r.git(ctx, "", "ls-remote", r.url); err == nil {
		t.Error("the Git server answered without credentials")
	}
	if err := r.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := (&fleetRepo{}).close(); err != nil {
		t.Errorf("closing a repository never served: %v", err)
	}
}

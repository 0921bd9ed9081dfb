package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/localprometheus"
)

// The progressive delivery step on staging: the app behind a Canary
// (apps/canary, applied by the Stack canary of clusters/staging), judged by
// a real Prometheus scraping its Pods while the demo sends it traffic. The
// release tags are 2.x, outside the 1.x range that staging's ImagePolicy
// follows, so the image automation leaves them alone.
const (
	canaryNS        = "canary"
	canaryName      = "app"
	canaryPath      = "apps/canary"
	canaryStackFile = "canary.yaml"
	canaryGoodTag   = "v2.0.0"
	canaryBadTag    = "v2.1.0"
	// canaryBadErrors is the percent of answers the bad release fails.
	canaryBadErrors = 50
	notesRef        = "refs/notes/flotilla"
)

// canaryDelivery shows a good release promoted and a bad one rolled back
// by a Canary on staging, with each step in the Git notes beside its
// commit. It needs the real node (Pods to judge); without one it says so.
func (f *fleet) canaryDelivery(ctx context.Context) error {
	c := f.nodeCluster()
	if c == nil {
		fmt.Fprintln(f.o.Out, "\n(Progressive delivery with a Canary needs the real node: skipped.)")
		return nil
	}
	fmt.Fprintf(f.o.Out, "\nProgressive delivery on %s: a Canary judged by a real Prometheus, every step a Git note\n", c.name)
	prom, err := f.startPrometheus(ctx, c)
	if err != nil {
		return err
	}
	if err := f.pushReleases(ctx, c); err != nil {
		return err
	}
	if err := f.commitCanary(ctx, c, prom.URL()); err != nil {
		return err
	}
	load, err := startLoad(ctx, c, canaryName, canaryName+"-canary")
	if err != nil {
		return err
	}
	defer load.stop()
	good, err := f.release(ctx, c, canaryGoodTag, 0, v1alpha1.CanaryPhaseSucceeded)
	if err != nil {
		return err
	}
	f.o.Report.Step("✔ promoted: the primary runs %s, the apex Service %s/%s answers %s", canaryGoodTag, canaryNS, canaryName, canaryGoodTag)
	bad, err := f.release(ctx, c, canaryBadTag, canaryBadErrors, v1alpha1.CanaryPhaseFailed)
	if err != nil {
		return err
	}
	f.o.Report.Step("✔ rolled back: the canary is scaled to zero, the apex Service %s/%s still answers %s", canaryNS, canaryName, canaryGoodTag)
	load.stop()
	f.o.Report.Step("  (%d requests sent to the apex Service during the two rollouts, %d failed)", load.sent, load.failed)
	return f.showLedger(ctx, c, good, bad)
}

// startPrometheus runs Prometheus on the node's address (the agent Pod
// queries it), scraping the Pods of the canary's namespace, and stops it
// at teardown.
func (f *fleet) startPrometheus(ctx context.Context, c *cluster) (*localprometheus.Server, error) {
	f.o.Report.Waiting("starting Prometheus")
	prom, err := localprometheus.Start(ctx, localprometheus.WithHost(localnode.NodeIP), localprometheus.WithScrape(localprometheus.ScrapeConfig{
		JobName: canaryNS, Kubeconfig: c.node.Kubeconfig, Namespaces: []string{canaryNS},
	}))
	if err != nil {
		return nil, fmt.Errorf("starting Prometheus for the Canary: %w", err)
	}
	f.stops = append(f.stops, prom.Stop)
	f.o.Report.Step("✔ Prometheus at %s scrapes the Pods of namespace %s on %s every %s", prom.URL(), canaryNS, c.name, localprometheus.ScrapeInterval)
	return prom, nil
}

// pushReleases builds the app at the two release tags and pushes them to
// the node's registry.
func (f *fleet) pushReleases(ctx context.Context, c *cluster) error {
	root, err := checkoutRoot()
	if err != nil {
		return err
	}
	for _, tag := range []string{canaryGoodTag, canaryBadTag} {
		f.o.Report.Waiting("building the app at %s", tag)
		img, err := buildApp(ctx, root, filepath.Join(f.dir, "images", "app-"+tag), tag)
		if err != nil {
			return err
		}
		if _, err := c.node.Push(ctx, img, canaryImage(c, tag)); err != nil {
			return err
		}
	}
	f.o.Report.Step("✔ pushed two releases of the app to the registry: %s and %s", canaryGoodTag, canaryBadTag)
	return nil
}

// canaryImage is the app at tag in the node's registry.
func canaryImage(c *cluster, tag string) string {
	return c.node.Registry.Host + "/example-app:" + tag
}

// commitCanary commits the app behind a Canary and the Stack that applies
// it, and waits until the Canary has made the primary.
func (f *fleet) commitCanary(ctx context.Context, c *cluster, metricsServer string) error {
	if err := writeCanaryApp(f.repo.work, c.name, f.images.app, metricsServer); err != nil {
		return err
	}
	sha, err := f.repo.commitAndPush(ctx, "canary: the app behind a Canary")
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(f.o.Out, "Committed %s: %s (Deployment, Canary) and the Stack clusters/%s/%s\n", short(sha), canaryPath, c.name, canaryStackFile)
	if err := requestFetch(ctx, c); err != nil {
		return err
	}
	if _, err := f.waitCanary(ctx, c, "initializing", &stepKey{}, v1alpha1.CanaryPhaseInitialized); err != nil {
		return err
	}
	if err := f.waitAnswer(ctx, c, appTag); err != nil {
		return err
	}
	f.o.Report.Step("✔ Canary %s/%s initialized after %s: the primary %s-primary runs %s, the Services %s, %s-canary and %s-primary exist",
		canaryNS, canaryName, since(start), canaryName, appTag, canaryName, canaryName, canaryName)
	return nil
}

// writeCanaryApp writes the app at image behind a Canary into the work
// tree, and the Stack that applies it into the cluster's directory, listed
// in its kustomization.
func writeCanaryApp(work, clusterName, image, metricsServer string) error {
	files := map[string]string{
		canaryPath + "/namespace.yaml":                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + canaryNS + "\n",
		canaryPath + "/deployment.yaml":                   canaryDeploymentYAML(image, 0),
		canaryPath + "/canary.yaml":                       canaryYAML(metricsServer),
		canaryPath + "/kustomization.yaml":                canaryKustomization,
		"clusters/" + clusterName + "/" + canaryStackFile: canaryStackYAML,
	}
	for name, text := range files {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return replaceInFile(filepath.Join(work, "clusters", clusterName, "kustomization.yaml"), "  - apps.yaml\n", "  - apps.yaml\n  - "+canaryStackFile+"\n")
}

// release commits the app at tag (answering errorPercent 500s), follows
// the analysis step by step until it ends, fails unless it ends in want,
// and waits until the apex Service answers the version the primary runs.
// It returns the commit.
func (f *fleet) release(ctx context.Context, c *cluster, tag string, errorPercent int, want v1alpha1.CanaryPhase) (string, error) {
	if err := os.WriteFile(filepath.Join(f.repo.work, canaryPath, "deployment.yaml"), []byte(canaryDeploymentYAML(canaryImage(c, tag), errorPercent)), 0o644); err != nil {
		return "", err
	}
	var before v1alpha1.Canary
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: canaryNS, Name: canaryName}, &before); err != nil {
		return "", err
	}
	seen := keyOf(&before)
	what := "release " + tag
	if errorPercent > 0 {
		what += fmt.Sprintf(", which answers 500 to %d%% of requests", errorPercent)
	}
	sha, err := f.repo.commitAndPush(ctx, "app: "+what)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(f.o.Out, "\nCommitted %s: %s\n", short(sha), what)
	if err := requestFetch(ctx, c); err != nil {
		return "", err
	}
	if _, err := f.waitCanary(ctx, c, "starting the analysis of "+tag, &seen, v1alpha1.CanaryPhaseProgressing); err != nil {
		return "", err
	}
	got, err := f.waitCanary(ctx, c, "analysing "+tag, &seen, v1alpha1.CanaryPhaseSucceeded, v1alpha1.CanaryPhaseFailed)
	if err != nil {
		return "", err
	}
	if got.Status.Phase != want {
		return "", fmt.Errorf("the Canary %s/%s ended the analysis of %s in phase %s, want %s: %s", canaryNS, canaryName, tag, got.Status.Phase, want, readyMessage(got))
	}
	return sha, f.waitAnswer(ctx, c, canaryGoodTag)
}

// stepKey identifies an analysis step in a Canary's status.
type stepKey struct {
	at                   time.Time
	iterations, failures int
}

// keyOf is the key of the Canary's last step.
func keyOf(cn *v1alpha1.Canary) stepKey {
	k := stepKey{iterations: cn.Status.Iterations, failures: cn.Status.FailedChecks}
	if cn.Status.LastStepAt != nil {
		k.at = cn.Status.LastStepAt.Time
	}
	return k
}

// waitCanary polls the Canary until its phase is one of phases, printing
// each analysis step after seen as it happens, and returns it.
func (f *fleet) waitCanary(ctx context.Context, c *cluster, doing string, seen *stepKey, phases ...v1alpha1.CanaryPhase) (*v1alpha1.Canary, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	key := client.ObjectKey{Namespace: canaryNS, Name: canaryName}
	for {
		var cn v1alpha1.Canary
		if err := c.client.Get(ctx, key, &cn); err == nil {
			if k := keyOf(&cn); k != *seen && !k.at.IsZero() {
				f.o.Report.Step("%s", describeStep(&cn))
				*seen = k
			}
			for _, p := range phases {
				if cn.Status.Phase == p {
					return &cn, nil
				}
			}
			f.o.Report.Waiting("%s: Canary %s is %s", doing, key, readyMessage(&cn))
		}
		if err := f.pause(ctx); err != nil {
			return nil, fmt.Errorf("%s: Canary %s not in phase %v: %w (agent logs: kubectl logs -n %s deploy/flotilla-agent)", doing, key, phases, err, Namespace)
		}
	}
}

// describeStep is the line for the Canary's last analysis step.
func describeStep(cn *v1alpha1.Canary) string {
	st := cn.Status
	var checks []string
	mark := "✔"
	for _, m := range st.LastMetrics {
		value := m.Value
		if value == "" {
			value = "no value"
		} else {
			value = roundPercent(value)
		}
		checks = append(checks, fmt.Sprintf("%s %s", m.Name, value))
		if !m.Passed {
			mark = "✘"
		}
	}
	what := strings.Join(checks, ", ")
	if len(checks) == 0 {
		what = "no checks at the first step, which sends the canary its first traffic"
	}
	return fmt.Sprintf("  %s %s: iteration %d/%d, failed checks %d/%d: %s",
		mark, st.Phase, st.Iterations, cn.Spec.Analysis.Iterations, st.FailedChecks, cn.Spec.Analysis.Threshold, what)
}

// roundPercent shows a Prometheus value like 49.82142857 as 49.8%.
func roundPercent(v string) string {
	var x float64
	if _, err := fmt.Sscan(v, &x); err != nil {
		return v
	}
	return fmt.Sprintf("%.4g%%", x)
}

// readyMessage is the Canary's phase and Ready message.
func readyMessage(cn *v1alpha1.Canary) string {
	for _, cond := range cn.Status.Conditions {
		if cond.Type == v1alpha1.ReadyCondition {
			return fmt.Sprintf("%s (%s)", cn.Status.Phase, cond.Message)
		}
	}
	return string(cn.Status.Phase)
}

// waitAnswer waits until the apex Service answers version.
func (f *fleet) waitAnswer(ctx context.Context, c *cluster, version string) error {
	ip, err := clusterIP(ctx, c, canaryName)
	if err != nil {
		return err
	}
	url := "http://" + ip + "/"
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		body, err := getJSON(ctx, url)
		if err == nil && strings.Contains(body, `"version":"`+version+`"`) {
			return nil
		}
		f.o.Report.Waiting("GET %s (Service %s/%s): waiting for %s", url, canaryNS, canaryName, version)
		if err := f.pause(ctx); err != nil {
			return fmt.Errorf("the Service %s/%s does not answer %s: %w", canaryNS, canaryName, version, err)
		}
	}
}

// clusterIP is the ClusterIP of the Service name in the canary's namespace.
func clusterIP(ctx context.Context, c *cluster, name string) (string, error) {
	var svc corev1.Service
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: canaryNS, Name: name}, &svc); err != nil {
		return "", fmt.Errorf("reading Service %s/%s on %s: %w", canaryNS, name, c.name, err)
	}
	return svc.Spec.ClusterIP, nil
}

// showLedger fetches the notes the Canary pushed and prints the readable
// part of each line of the two releases' notes.
func (f *fleet) showLedger(ctx context.Context, c *cluster, good, bad string) error {
	fmt.Fprintf(f.o.Out, "\n$ git fetch origin %[1]s:%[1]s && git log --notes=flotilla\n", notesRef)
	for _, r := range []struct{ sha, phase string }{{good, "Succeeded"}, {bad, "Failed"}} {
		note, err := f.waitNote(ctx, r.sha, " "+r.phase+" ")
		if err != nil {
			return err
		}
		subject, err := f.repo.git(ctx, f.repo.work, "log", "-1", "--format=%s", r.sha)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.o.Out, "%s %s\n", short(r.sha), subject)
		for _, line := range noteSummaries(note) {
			f.o.Report.Step("    %s", line)
		}
	}
	f.o.Report.Step("✔ the ledger: every step of both analyses is a Git note on the commit it judged (each line is \"<summary>\\t{json}\"; the JSON is left out here)")
	fmt.Fprintf(f.o.Out, "The same as a table: flotilla rollout history %s -n %s --context %s; the Canaries: flotilla get canaries -A --context %s\n", canaryName, canaryNS, c.name, c.name)
	return nil
}

// waitNote fetches the notes until the note of commit contains want, and
// returns that note.
func (f *fleet) waitNote(ctx context.Context, commit, want string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		_, ferr := f.repo.git(ctx, f.repo.work, "fetch", "--quiet", "--force", "origin", notesRef+":"+notesRef)
		note, err := f.repo.git(ctx, f.repo.work, "log", "-1", "--notes=flotilla", "--format=%N", commit)
		if ferr == nil && err == nil && strings.Contains(note, want) {
			return note, nil
		}
		f.o.Report.Waiting("waiting for the Canary's notes on %s to reach the Git server", short(commit))
		if perr := f.pause(ctx); perr != nil {
			return "", fmt.Errorf("no note saying %q on %s in %s: %w", strings.TrimSpace(want), short(commit), notesRef, errors.Join(perr, ferr, err))
		}
	}
}

// noteSummaries returns the summary of each ledger line of a note (the
// part before the tab and the JSON); other lines are kept whole.
func noteSummaries(note string) []string {
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(note), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if i := strings.LastIndex(line, "\t{"); i >= 0 {
			line = line[:i]
		}
		out = append(out, line)
	}
	return out
}

// load sends requests to Services' ClusterIPs from this machine until
// stopped, as users would: the checks judge real traffic.
type load struct {
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	once         sync.Once
	mu           sync.Mutex
	sent, failed int
}

// startLoad starts one sender per Service, a request every 50ms each.
func startLoad(ctx context.Context, c *cluster, services ...string) (*load, error) {
	var urls []string
	for _, name := range services {
		ip, err := clusterIP(ctx, c, name)
		if err != nil {
			return nil, err
		}
		urls = append(urls, "http://"+ip+"/")
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &load{cancel: cancel}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i, url := range urls {
		apex := i == 0
		l.wg.Go(func() { l.send(ctx, hc, url, apex) })
	}
	return l, nil
}

// send GETs url every 50ms until ctx ends, counting the apex's answers.
func (l *load) send(ctx context.Context, hc *http.Client, url string, apex bool) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		resp, err := hc.Do(req)
		ok := err == nil && resp.StatusCode < 300
		if err == nil {
			_ = resp.Body.Close()
		}
		if apex && ctx.Err() == nil {
			l.mu.Lock()
			l.sent++
			if !ok {
				l.failed++
			}
			l.mu.Unlock()
		}
	}
}

// stop ends the senders and waits for them; it may be called again.
func (l *load) stop() {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
}

const canaryKustomization = `# The app behind a Canary (docs/canary.md): the Canary makes app-primary
# and the Services app, app-canary and app-primary, and judges each new
# version of the Deployment before the primary takes it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ` + canaryNS + `
resources:
  - namespace.yaml
  - deployment.yaml
  - canary.yaml
`

const canaryStackYAML = `# Progressive delivery of the app in apps/canary (committed by the demo).
apiVersion: flotilla.io/v1alpha1
kind: Stack
metadata:
  name: canary
  namespace: flotilla-system
  labels:
    app.kubernetes.io/name: canary
spec:
  sourceRef:
    kind: GitRepository
    name: fleet
    namespace: flotilla-system
  path: ./` + canaryPath + `
  interval: 5m
  retryInterval: 10s
  timeout: 2m
  prune: true
  wait: false
  healthChecks:
    - apiVersion: v1
      kind: Namespace
      name: ` + canaryNS + `
`

// canaryYAML is the Canary: blue/green with Services, three 10s
// iterations, rolled back after two failed checks of the success rate.
func canaryYAML(metricsServer string) string {
	return fmt.Sprintf(`apiVersion: flotilla.io/v1alpha1
kind: Canary
metadata:
  name: %s
spec:
  provider: kubernetes
  metricsServer: %s
  targetRef:
    name: %s
  service:
    port: 80
    targetPort: 8080
  progressDeadlineSeconds: 120
  analysis:
    interval: 10s
    iterations: 3
    threshold: 2
    metrics:
      - name: request-success-rate
        interval: 30s
        thresholdRange:
          min: 95
  ledger:
    push: true
`, canaryName, metricsServer, canaryName)
}

// canaryDeploymentYAML is the Canary's target: no replicas (the Canary
// scales it), scraped by Prometheus, answering errorPercent 500s.
func canaryDeploymentYAML(image string, errorPercent int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: %[2]s
          env:
            - name: APP_ERROR_PERCENT
              value: "%[3]d"
            - name: APP_DRAIN_DELAY
              value: "1s"
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 1
`, canaryName, image, errorPercent)
}

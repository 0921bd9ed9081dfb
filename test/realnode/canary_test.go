package realnode

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/localprometheus"
)

// canaryPath is the directory of the canary scenario's app in the fleet.
const canaryPath = "apps/canary"

// testCanary rolls out two releases of the app through a Canary with the
// kubernetes (blue/green) router, judged by a real Prometheus that scrapes
// the real Pods while the test sends traffic through the Services: a good
// release is promoted (the primary runs it, the apex Service answers it), a
// bad one (half its answers are 500) is rolled back after threshold failed
// checks and the apex Service keeps answering the good one. Every step is a
// Git note on the commit that started it.
func testCanary(t *testing.T, f *fleet) {
	ns := newNamespace(t, "canary")
	createSource(t, f, ns)
	prom, err := localprometheus.Start(context.Background(), localprometheus.WithHost(localnode.NodeIP),
		localprometheus.WithScrape(localprometheus.ScrapeConfig{JobName: "app", Kubeconfig: cluster.Kubeconfig, Namespaces: []string{ns}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus log:\n%s", prom.Logs())
		}
		_ = prom.Stop()
	})
	for _, tag := range []string{"canary-good", "canary-bad"} {
		pushAppTag(t, tag)
	}

	f.work.WriteFile(t, canaryPath+"/deployment.yaml", canaryDeploymentYAML(appImage, 0))
	f.work.WriteFile(t, canaryPath+"/canary.yaml", canaryYAML(prom.URL()))
	f.work.WriteFile(t, canaryPath+"/kustomization.yaml", kustomization("deployment.yaml", "canary.yaml"))
	rev := gitRevision(f.push(t, "the app behind a Canary"))
	mustCreate(t, newStack(ns, "app", canaryPath, 3*time.Minute, false))
	waitStack(t, client.ObjectKey{Namespace: ns, Name: "app"}, rev, 3*time.Minute)
	key := client.ObjectKey{Namespace: ns, Name: "app"}
	waitCanaryPhase(t, key, 3*time.Minute, v1alpha1.CanaryPhaseInitialized)
	waitVersion(t, ns, "v1")

	load := sendLoad(t, ns, "app", "app-canary")
	defer load.stop()

	f.work.WriteFile(t, canaryPath+"/deployment.yaml", canaryDeploymentYAML(cluster.Registry.Host+"/app:canary-good", 0))
	good := f.push(t, "release canary-good")
	waitCanaryPhase(t, key, 3*time.Minute, v1alpha1.CanaryPhaseProgressing)
	c := waitCanaryPhase(t, key, 5*time.Minute, v1alpha1.CanaryPhaseSucceeded, v1alpha1.CanaryPhaseFailed)
	if c.Status.Phase != v1alpha1.CanaryPhaseSucceeded {
		t.Fatalf("the good release was not promoted: %s", describeCanary(c))
	}
	waitVersion(t, ns, "canary-good")

	f.work.WriteFile(t, canaryPath+"/deployment.yaml", canaryDeploymentYAML(cluster.Registry.Host+"/app:canary-bad", 50))
	bad := f.push(t, "release canary-bad, which answers 500 half the time")
	waitCanaryPhase(t, key, 3*time.Minute, v1alpha1.CanaryPhaseProgressing)
	c = waitCanaryPhase(t, key, 5*time.Minute, v1alpha1.CanaryPhaseFailed, v1alpha1.CanaryPhaseSucceeded)
	if c.Status.Phase != v1alpha1.CanaryPhaseFailed {
		t.Fatalf("the bad release was not rolled back: %s", describeCanary(c))
	}
	if c.Status.CanaryWeight != 0 {
		t.Errorf("after the rollback the canary's weight is %d, want 0", c.Status.CanaryWeight)
	}
	for _, m := range c.Status.LastMetrics {
		if m.Passed {
			t.Errorf("the last failed step has a passing check: %+v", m)
		}
	}
	waitVersion(t, ns, "canary-good")
	if load.failed("app") > 0 {
		t.Logf("%d of %d requests to the apex Service failed during the two rollouts", load.failed("app"), load.sent("app"))
	}

	checkLedger(t, f, good, "Succeeded")
	checkLedger(t, f, bad, "Failed")
}

// checkLedger fetches the notes and checks that git log shows the phase in
// the note of commit.
func checkLedger(t *testing.T, f *fleet, commit, phase string) {
	t.Helper()
	eventually(t, time.Minute, "the ledger note of "+commit[:8]+" to say "+phase, func() (bool, string) {
		f.work.Git(t, "fetch", "--quiet", "--force", "origin", "refs/notes/flotilla:refs/notes/flotilla")
		out := f.work.Git(t, "log", "--notes=flotilla", "-1", commit)
		return strings.Contains(out, "Notes (flotilla):") && strings.Contains(out, " "+phase+" "), out
	})
}

func canaryYAML(prometheusURL string) string {
	return fmt.Sprintf(`apiVersion: flotilla.io/v1alpha1
kind: Canary
metadata:
  name: app
spec:
  provider: kubernetes
  metricsServer: %s
  targetRef:
    name: app
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
`, prometheusURL)
}

// canaryDeploymentYAML is the Canary's target: no replicas (the Canary
// scales it), scraped by Prometheus, answering errorPercent 500s.
func canaryDeploymentYAML(image string, errorPercent int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: %s
          env:
            - name: APP_ERROR_PERCENT
              value: "%d"
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
`, image, errorPercent)
}

func waitCanaryPhase(t *testing.T, key client.ObjectKey, timeout time.Duration, phases ...v1alpha1.CanaryPhase) *v1alpha1.Canary {
	t.Helper()
	var c v1alpha1.Canary
	eventually(t, timeout, fmt.Sprintf("Canary %s in phase %v", key, phases), func() (bool, string) {
		mustGet(t, key, &c)
		for _, p := range phases {
			if c.Status.Phase == p {
				return true, describeCanary(&c)
			}
		}
		return false, describeCanary(&c)
	})
	return &c
}

func describeCanary(c *v1alpha1.Canary) string {
	var conds []string
	for _, cond := range c.Status.Conditions {
		conds = append(conds, fmt.Sprintf("%s=%s %s: %s", cond.Type, cond.Status, cond.Reason, cond.Message))
	}
	return fmt.Sprintf("phase=%s weight=%d failed=%d iterations=%d metrics=%+v; %s",
		c.Status.Phase, c.Status.CanaryWeight, c.Status.FailedChecks, c.Status.Iterations, c.Status.LastMetrics, strings.Join(conds, "; "))
}

// loadSender sends requests to Services' cluster IPs from the host until
// stopped, counting the answers that were not 2xx.
type loadSender struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	counts map[string]*[2]atomic.Int64 // service -> sent, failed
}

func sendLoad(t *testing.T, ns string, services ...string) *loadSender {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &loadSender{cancel: cancel, counts: map[string]*[2]atomic.Int64{}}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, name := range services {
		var svc corev1.Service
		mustGet(t, client.ObjectKey{Namespace: ns, Name: name}, &svc)
		url := "http://" + svc.Spec.ClusterIP + "/"
		n := &[2]atomic.Int64{}
		l.counts[name] = n
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				n[0].Add(1)
				resp, err := hc.Get(url)
				if err != nil {
					n[1].Add(1)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode >= 300 {
					n[1].Add(1)
				}
			}
		}()
	}
	t.Cleanup(l.stop)
	return l
}

func (l *loadSender) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *loadSender) sent(svc string) int64   { return l.counts[svc][0].Load() }
func (l *loadSender) failed(svc string) int64 { return l.counts[svc][1].Load() }

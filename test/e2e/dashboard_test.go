package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/dashboard"
	"github.com/flotilla-io/flotilla/test/browser"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// The dashboard test's fleet: the demo's two prod clusters (no real node:
// the demo runs outside a checkout), and a third cluster the test starts
// and stops mid-test.
const (
	dashNamespace  = "flotilla-system"
	dashLabCluster = "lab"
	// driftLiveness is the bound: a drift record shows in the page
	// within 2 s of the Stack's status gaining it.
	driftLiveness = 2 * time.Second
	// pageWait bounds the page's reaction to a change the test makes.
	pageWait = 20 * time.Second
	// planBranch is the branch the test pushes for the plan page.
	planBranch = "lower-log-level"
)

var dashClusters = []string{"prod-us-east", "prod-eu-west"}

// dashboardLine is the demo's line that names its dashboard.
var dashboardLine = regexp.MustCompile(`Dashboard: (http://127\.0\.0\.1:\d+/) \(the fleet, live\)`)

// TestDashboardShowsTheDemoFleetLive runs the demo fleet, serves a
// dashboard over it and a third cluster, and reads the page in headless
// Chromium as a person would: the matrix holds every cluster and Stack,
// a hand edit reaches the drift log within 2 s, suspending shows without a
// reload, a stopped cluster is marked unreachable, actions reach the API
// server, the keyboard and the theme work, and the delivery and plan pages
// render. Screenshots of each view are kept (see browser.ScreenshotDir).
func TestDashboardShowsTheDemoFleetLive(t *testing.T) {
	controlplane.Require(t, env)
	demoDir := t.TempDir()
	demoURL := startDemoFleet(t, demoDir)
	assertDemoDashboard(t, demoURL)

	lab := startControlPlane(t)
	createLabStack(t, lab.Client)
	clients := fleetClients(t, filepath.Join(demoDir, "kubeconfig"))
	configs := append(clusterConfigs(t, filepath.Join(demoDir, "kubeconfig")), dashboard.ClusterConfig{Name: dashLabCluster, Config: lab.Config})
	clients[dashLabCluster] = lab.Client
	repo := filepath.Join(demoDir, "repo", "git", "fleet.git")
	url := serveDashboard(t, configs, repo)
	// The branch the plan page plans, pushed now: the dashboard reads the
	// repository every few seconds.
	pushPlanBranch(t, repo)

	b := browser.Start(t, browser.WithWindowSize(1400, 900))
	b.Navigate(url)
	b.WaitVisible("table#matrix")
	// A mark a reload would wipe: every step below must keep it.
	b.WaitFor("(window.flotillaTestMark = 'no reload') && true", time.Second)

	t.Run("matrix", func(t *testing.T) { assertMatrix(t, b, clients) })
	t.Run("drift", func(t *testing.T) { assertDriftLive(t, b, clients["prod-us-east"]) })
	t.Run("suspend", func(t *testing.T) { assertSuspendShows(t, b, clients["prod-eu-west"]) })
	t.Run("reconcile", func(t *testing.T) { assertReconcileAction(t, b, clients["prod-eu-west"]) })
	t.Run("unreachable", func(t *testing.T) { assertUnreachable(t, b, lab, clients) })
	t.Run("keyboard", func(t *testing.T) { assertKeyboard(t, b) })
	t.Run("theme", func(t *testing.T) { assertTheme(t, b) })
	t.Run("delivery", func(t *testing.T) { assertDelivery(t, b) })
	t.Run("plan", func(t *testing.T) { assertPlan(t, b, url) })

	if mark := browser.Eval[string](b, "window.flotillaTestMark ?? ''"); mark != "no reload" {
		t.Errorf("the page reloaded during the test (mark %q)", mark)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page threw or logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// startDemoFleet runs `flotilla demo --keep` on the prod clusters, outside
// a checkout (no real node), waits for its script to end and returns the
// URL of the dashboard it serves. The demo is stopped when the test ends.
func startDemoFleet(t *testing.T, dir string) string {
	t.Helper()
	assets, err := controlplane.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(flotillaBin, "demo", "--assets", assets, "--dir", dir, "--timeout", "2m",
		"--keep", "--clusters", strings.Join(dashClusters, ","))
	cmd.Dir = t.TempDir()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting flotilla demo: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("the demo's output:\n%s", out.String())
		}
	})
	deadline := time.After(10 * time.Minute)
	for !strings.Contains(out.String(), "Everything keeps running") {
		select {
		case err := <-exited:
			t.Fatalf("flotilla demo ended: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("flotilla demo did not finish its script in 10 minutes:\n%s", out.String())
		case <-time.After(pollInterval):
		}
	}
	m := dashboardLine.FindAllStringSubmatch(out.String(), -1)
	if len(m) != 2 || m[0][1] != m[1][1] {
		t.Fatalf("the demo names its dashboard %d times, want twice with one URL (a Step line and the closing lines):\n%s", len(m), out.String())
	}
	return m[0][1]
}

// assertDemoDashboard checks that the demo's own dashboard serves its
// clusters.
func assertDemoDashboard(t *testing.T, url string) {
	t.Helper()
	var fleet dashboard.Fleet
	if err := getJSON(url+"api/fleet", &fleet); err != nil {
		t.Fatalf("the demo dashboard's fleet: %v", err)
	}
	var names []string
	for _, c := range fleet.Clusters {
		names = append(names, c.Name)
		if !c.Reachable || len(c.Stacks) == 0 {
			t.Errorf("the demo dashboard shows cluster %s reachable=%t with %d Stacks, want reachable with its Stacks", c.Name, c.Reachable, len(c.Stacks))
		}
	}
	if !slices.Equal(names, dashClusters) {
		t.Errorf("the demo dashboard lists clusters %q, want %q", names, dashClusters)
	}
	if !fleet.Actions || fleet.Repo == nil {
		t.Errorf("the demo dashboard has actions=%t repo=%v, want actions allowed and the demo's repository", fleet.Actions, fleet.Repo)
	}
}

// getJSON decodes the JSON answer of a GET.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// createLabStack gives the third cluster a Stack of its own; it has no
// agent, so the Stack never gets a status.
func createLabStack(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dashNamespace}}); err != nil {
		t.Fatal(err)
	}
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: dashNamespace, Name: "experiments"},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      "./apps/overlays/lab",
			Interval:  metav1.Duration{Duration: 5 * time.Minute},
			Prune:     true,
		},
	}
	if err := c.Create(ctx, s); err != nil {
		t.Fatalf("creating the lab cluster's Stack: %v", err)
	}
}

// clusterConfigs reads a config per context of the kubeconfig, in the
// demo's cluster order.
func clusterConfigs(t *testing.T, kubeconfig string) []dashboard.ClusterConfig {
	t.Helper()
	var out []dashboard.ClusterConfig
	for _, name := range dashClusters {
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: name}).ClientConfig()
		if err != nil {
			t.Fatalf("context %s of %s: %v", name, kubeconfig, err)
		}
		out = append(out, dashboard.ClusterConfig{Name: name, Config: cfg})
	}
	return out
}

// fleetClients returns a client per demo cluster.
func fleetClients(t *testing.T, kubeconfig string) map[string]client.Client {
	t.Helper()
	out := map[string]client.Client{}
	for _, c := range clusterConfigs(t, kubeconfig) {
		cl, err := client.NewWithWatch(c.Config, client.Options{Scheme: agent.Scheme()})
		if err != nil {
			t.Fatal(err)
		}
		out[c.Name] = cl
	}
	return out
}

// serveDashboard serves a dashboard over the clusters, with the repository
// and actions allowed, until the test ends.
func serveDashboard(t *testing.T, clusters []dashboard.ClusterConfig, repo string) string {
	t.Helper()
	for i := range clusters {
		clusters[i].Config = rest.CopyConfig(clusters[i].Config)
	}
	s, err := dashboard.New(dashboard.Options{Clusters: clusters, Repo: repo, AllowActions: true})
	if err != nil {
		t.Fatalf("dashboard.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	url, served, err := dashboard.Listen(ctx, s, "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("dashboard Run: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("dashboard Listen: %v", err)
		}
	})
	return url
}

// assertMatrix checks that the matrix shows every cluster and every Stack
// the API servers hold.
func assertMatrix(t *testing.T, b *browser.Browser, clients map[string]client.Client) {
	for _, name := range append(slices.Clone(dashClusters), dashLabCluster) {
		var list v1alpha1.StackList
		if err := clients[name].List(context.Background(), &list); err != nil {
			t.Fatalf("listing the Stacks of %s: %v", name, err)
		}
		if len(list.Items) == 0 {
			t.Fatalf("cluster %s holds no Stacks", name)
		}
		row := fmt.Sprintf(`table#matrix tr[data-cluster=%q]`, name)
		for _, s := range list.Items {
			cell := fmt.Sprintf(`%s td[data-stack="%s/%s"]:not(.absent)`, row, s.Namespace, s.Name)
			if err := b.Poll(fmt.Sprintf("document.querySelector(%q)", cell), pageWait); err != nil {
				t.Errorf("the matrix shows no cell for Stack %s/%s of %s: %v", s.Namespace, s.Name, name, err)
			}
		}
		if got := b.Attr(row, "data-reachable"); got != "true" {
			t.Errorf("cluster %s is data-reachable=%q, want true", name, got)
		}
		if name == dashLabCluster {
			continue
		}
		// The demo's Stacks are Ready at the head of main.
		for _, s := range list.Items {
			cell := fmt.Sprintf(`%s td[data-stack="%s/%s"]`, row, s.Namespace, s.Name)
			if got := b.Attr(cell, "data-ready"); got != "True" {
				t.Errorf("Stack %s/%s of %s shows data-ready=%q, want True", s.Namespace, s.Name, name, got)
			}
			if got, want := b.Attr(cell, "data-revision"), shortRevision(s.Status.LastAppliedRevision); got != want {
				t.Errorf("Stack %s/%s of %s shows data-revision=%q, want %q", s.Namespace, s.Name, name, got, want)
			}
		}
	}
	if got, want := b.Count("table#matrix tr[data-cluster]"), len(dashClusters)+1; got != want {
		t.Errorf("the matrix has %d cluster rows, want %d", got, want)
	}
	b.Screenshot("fleet")
}

// shortRevision is the short SHA of "main@sha1:<hash>".
func shortRevision(revision string) string {
	_, sha, _ := strings.Cut(revision, "sha1:")
	return sha[:min(7, len(sha))]
}

// assertDriftLive edits a ConfigMap of the Stack apps by hand, as the demo
// does, and measures from the moment a watch sees the Stack's status gain
// the drift record to the moment the Stack page shows it.
func assertDriftLive(t *testing.T, b *browser.Browser, c client.Client) {
	const stack = "apps"
	goTo(t, b, fmt.Sprintf("#/stack/%s/%s/%s", "prod-us-east", dashNamespace, stack))
	b.WaitVisible(fmt.Sprintf(`section#stack[data-name=%q]`, stack))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var s v1alpha1.Stack
	if err := c.Get(ctx, client.ObjectKey{Namespace: dashNamespace, Name: stack}, &s); err != nil {
		t.Fatal(err)
	}
	before := len(s.Status.Drift)
	selector := `#drift li[data-manager="kubectl-edit"]`
	if got := b.Count(selector); got != countManager(s.Status.Drift, "kubectl-edit") {
		t.Errorf("the drift log shows %d records by kubectl-edit, the Stack holds %d", got, countManager(s.Status.Drift, "kubectl-edit"))
	}
	shown := b.Count(selector)

	recorded := watchDriftRecord(ctx, t, c, stack, s.ResourceVersion, before)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "hello", Name: "hello-config"}}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"data":{"REGION":"edited-in-the-dashboard-test"}}`))
	if err := c.Patch(ctx, cm, patch, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatalf("editing ConfigMap hello/hello-config: %v", err)
	}
	var at time.Time
	select {
	case at = <-recorded:
	case <-ctx.Done():
		t.Fatal("the Stack recorded no drift within a minute of the hand edit")
	}
	err := b.Poll(fmt.Sprintf("document.querySelectorAll(%q).length > %d", selector, shown), pageWait)
	latency := time.Since(at)
	if err != nil {
		t.Fatalf("the drift log shows no new record by kubectl-edit %s after the Stack recorded it: %v", pageWait, err)
	}
	t.Logf("the drift record showed %s after the Stack's status gained it", latency.Round(time.Millisecond))
	if latency > driftLiveness {
		t.Errorf("the drift record showed %s after the Stack's status gained it, want within %s", latency.Round(time.Millisecond), driftLiveness)
	}
	li := selector + `[data-object*="hello-config"]`
	if got := b.Attr(li, "data-fields"); !strings.Contains(got, "REGION") {
		t.Errorf("the drift record of hello-config names fields %q, want REGION among them", got)
	}
	b.Screenshot("stack")
}

// countManager counts the drift records by manager.
func countManager(drift []v1alpha1.DriftRecord, manager string) int {
	n := 0
	for _, d := range drift {
		if d.Manager == manager {
			n++
		}
	}
	return n
}

// watchDriftRecord watches the Stack from resourceVersion and sends the
// time it first sees more than before drift records.
func watchDriftRecord(ctx context.Context, t *testing.T, c client.Client, name, resourceVersion string, before int) <-chan time.Time {
	t.Helper()
	w, err := c.(client.WithWatch).Watch(ctx, &v1alpha1.StackList{}, client.InNamespace(dashNamespace),
		client.MatchingFields{"metadata.name": name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
	if err != nil {
		t.Fatalf("watching Stack %s: %v", name, err)
	}
	at := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*v1alpha1.Stack); ok && len(s.Status.Drift) > before {
				at <- time.Now()
				return
			}
		}
	}()
	return at
}

// assertSuspendShows suspends a Stack and resumes it through the API
// server; the matrix follows without a reload.
func assertSuspendShows(t *testing.T, b *browser.Browser, c client.Client) {
	const stack = "infrastructure"
	goTo(t, b, "#/")
	cell := fmt.Sprintf(`table#matrix tr[data-cluster="prod-eu-west"] td[data-stack="%s/%s"]`, dashNamespace, stack)
	b.WaitVisible(cell)
	for _, suspend := range []bool{true, false} {
		setSuspend(t, c, stack, suspend)
		want := fmt.Sprintf(`document.querySelector(%q)?.getAttribute("data-suspended") === "%t"`, cell, suspend)
		if err := b.Poll(want, pageWait); err != nil {
			t.Fatalf("the matrix does not show Stack %s suspended=%t within %s: %v", stack, suspend, pageWait, err)
		}
		if suspend {
			b.Screenshot("suspended")
		}
	}
}

// setSuspend patches spec.suspend of a Stack.
func setSuspend(t *testing.T, c client.Client, name string, suspend bool) {
	t.Helper()
	s := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: dashNamespace, Name: name}}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, suspend))
	if err := c.Patch(context.Background(), s, patch); err != nil {
		t.Fatalf("setting suspend=%t on Stack %s: %v", suspend, name, err)
	}
}

// assertReconcileAction clicks reconcile on a Stack's page, confirms, and
// reads the request annotation back from the API server.
func assertReconcileAction(t *testing.T, b *browser.Browser, c client.Client) {
	const stack = "apps"
	key := client.ObjectKey{Namespace: dashNamespace, Name: stack}
	var s v1alpha1.Stack
	if err := c.Get(context.Background(), key, &s); err != nil {
		t.Fatal(err)
	}
	before := s.Annotations[v1alpha1.ReconcileRequestAnnotation]
	goTo(t, b, fmt.Sprintf("#/stack/prod-eu-west/%s/%s", dashNamespace, stack))
	b.WaitVisible(fmt.Sprintf(`section#stack[data-cluster="prod-eu-west"][data-name=%q]`, stack))
	b.Click(`button[data-action="reconcile"]`)
	b.WaitVisible("dialog#confirm")
	b.Screenshot("confirm")
	b.Click("button#confirm-ok")
	eventually(t, "the reconcile annotation on Stack apps of prod-eu-west", func() (bool, string) {
		if err := c.Get(context.Background(), key, &s); err != nil {
			return false, err.Error()
		}
		got := s.Annotations[v1alpha1.ReconcileRequestAnnotation]
		return got != "" && got != before, fmt.Sprintf("annotation %q (before %q)", got, before)
	})
}

// assertUnreachable stops the lab cluster: its row turns unreachable and
// the others stay reachable with their Stacks.
func assertUnreachable(t *testing.T, b *browser.Browser, lab *controlplane.Env, clients map[string]client.Client) {
	goTo(t, b, "#/")
	b.WaitVisible("table#matrix")
	stacks := map[string]int{}
	for _, name := range dashClusters {
		stacks[name] = b.Count(fmt.Sprintf(`tr[data-cluster=%q] td[data-stack]:not(.absent)`, name))
	}
	if err := lab.Stop(); err != nil {
		// envtest kills kube-apiserver when it does not stop in time: the
		// cluster is down either way.
		t.Logf("stopping the lab cluster: %v", err)
	}
	row := fmt.Sprintf(`tr[data-cluster=%q]`, dashLabCluster)
	if err := b.Poll(fmt.Sprintf(`document.querySelector(%q)?.getAttribute("data-reachable") === "false"`, row), pageWait); err != nil {
		t.Fatalf("the stopped cluster's row is not marked unreachable within %s: %v", pageWait, err)
	}
	if got := b.Count(row + ` td[data-stack]:not(.absent)`); got == 0 {
		t.Errorf("the stopped cluster's last Stacks are gone from its row, want them kept (stale)")
	}
	for _, name := range dashClusters {
		r := fmt.Sprintf(`tr[data-cluster=%q]`, name)
		if got := b.Attr(r, "data-reachable"); got != "true" {
			t.Errorf("cluster %s is data-reachable=%q after another stopped, want true", name, got)
		}
		if got := b.Count(r + ` td[data-stack]:not(.absent)`); got != stacks[name] {
			t.Errorf("cluster %s shows %d Stacks after another stopped, want %d", name, got, stacks[name])
		}
	}
	b.Screenshot("unreachable")
}

// assertKeyboard moves through the matrix with the arrows and opens a
// Stack with Enter, and goes back with Escape.
func assertKeyboard(t *testing.T, b *browser.Browser) {
	goTo(t, b, "#/")
	first := `table#matrix tr[data-cluster] td[data-stack]:not(.absent)`
	b.WaitVisible(first)
	focusFirstCell(t, b)
	cell := func() (cluster, stack string) {
		v := browser.Eval[[]string](b, `(() => { const td = document.activeElement?.closest("td[data-stack]");
			return [td?.closest("tr")?.dataset.cluster ?? "", td?.dataset.stack ?? ""] })()`)
		return v[0], v[1]
	}
	c0, s0 := cell()
	if c0 == "" {
		t.Fatal("focusing the matrix put the focus on no Stack cell")
	}
	b.Press(kb.ArrowRight)
	c1, s1 := cell()
	if c1 != c0 || s1 == s0 || s1 == "" {
		t.Errorf("ArrowRight moved the focus from %s %s to %q %q, want the next Stack of the same cluster", c0, s0, c1, s1)
	}
	b.Press(kb.ArrowDown)
	c2, s2 := cell()
	if c2 == c1 || c2 == "" || s2 != s1 {
		t.Errorf("ArrowDown moved the focus from %s %s to %q %q, want the same Stack of the next cluster", c1, s1, c2, s2)
	}
	b.Press(kb.Enter)
	ns, name, _ := strings.Cut(s2, "/")
	b.WaitVisible(fmt.Sprintf(`section#stack[data-cluster=%q][data-namespace=%q][data-name=%q]`, c2, ns, name))
	b.Press(kb.Escape)
	b.WaitVisible("table#matrix")
}

// focusFirstCell focuses the first Stack cell, or the focusable element in
// it.
func focusFirstCell(t *testing.T, b *browser.Browser) {
	t.Helper()
	ok := browser.Eval[bool](b, `(() => {
		const td = document.querySelector("table#matrix tr[data-cluster] td[data-stack]:not(.absent)");
		const el = td?.matches("[tabindex]") ? td : td?.querySelector("a, button, [tabindex]");
		el?.focus();
		return !!el && document.activeElement === el })()`)
	if !ok {
		t.Fatal("the first Stack cell of the matrix cannot take the focus (no tabindex, link or button)")
	}
}

// assertTheme toggles the theme both ways.
func assertTheme(t *testing.T, b *browser.Browser) {
	goTo(t, b, "#/")
	start := b.Attr("html", "data-theme")
	if start != "light" && start != "dark" {
		t.Fatalf("html has data-theme=%q, want light or dark", start)
	}
	for i := range 2 {
		before := b.Attr("html", "data-theme")
		b.Click("button#theme")
		after := b.Attr("html", "data-theme")
		if after == before || (after != "light" && after != "dark") {
			t.Errorf("toggle %d turned data-theme %q into %q, want the other one", i+1, before, after)
		}
		b.Screenshot("fleet-" + after)
	}
}

// assertDelivery opens the delivery page (the demo's fleet without a node
// runs no Canary: the page shows it has none).
func assertDelivery(t *testing.T, b *browser.Browser) {
	goTo(t, b, "#/delivery")
	b.WaitVisible("section#delivery")
	if got := b.Count("tr.canary"); got != 0 {
		t.Errorf("the delivery page shows %d canaries, the fleet runs none", got)
	}
	b.Screenshot("delivery")
}

// assertPlan plans the branch that changes prod-us-east only and reads its
// blast radius on the plan page.
func assertPlan(t *testing.T, b *browser.Browser, url string) {
	eventually(t, "the dashboard to read branch "+planBranch, func() (bool, string) {
		var fleet dashboard.Fleet
		if err := getJSON(url+"api/fleet", &fleet); err != nil {
			return false, err.Error()
		}
		if fleet.Repo == nil {
			return false, "no repository"
		}
		return slices.Contains(fleet.Repo.Branches, planBranch), fmt.Sprintf("branches %q", fleet.Repo.Branches)
	})
	goTo(t, b, "#/plan")
	b.WaitVisible("section#plan")
	option := fmt.Sprintf(`select#plan-head option[value=%q]`, planBranch)
	if err := b.Poll(fmt.Sprintf("document.querySelector(%q)", option), pageWait); err != nil {
		t.Fatalf("the plan page offers no branch %s within %s: %v", planBranch, pageWait, err)
	}
	if !browser.Eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector("select#plan-head");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === %q })()`, planBranch, planBranch)) {
		t.Fatalf("choosing branch %s in select#plan-head did not take", planBranch)
	}
	b.Click("button#plan-run")
	changed := `#plan-result .plan-cluster[data-cluster="prod-us-east"][data-status="changed"]`
	if err := b.Poll(fmt.Sprintf("document.querySelector(%q)", changed), time.Minute); err != nil {
		t.Fatalf("#plan-result does not show prod-us-east changed within a minute: %v\n%s", err, b.Text("#plan-result"))
	}
	if got := b.Attr(`#plan-result .plan-cluster[data-cluster="prod-eu-west"]`, "data-status"); got != "unchanged" {
		t.Errorf("#plan-result shows prod-eu-west %q, want unchanged: the branch changes prod-us-east only\n%s", got, b.Text("#plan-result"))
	}
	b.Screenshot("plan")
}

// pushPlanBranch pushes planBranch to the bare repository: main with
// prod-us-east's log level changed.
func pushPlanBranch(t *testing.T, bare string) {
	t.Helper()
	work := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+work, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Dashboard test", "GIT_AUTHOR_EMAIL=test@flotilla.invalid",
			"GIT_COMMITTER_NAME=Dashboard test", "GIT_COMMITTER_EMAIL=test@flotilla.invalid")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("clone", "-q", bare, ".")
	file := filepath.Join(work, "apps", "overlays", "prod-us-east", "kustomization.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "LEVEL: warn", "LEVEL: error", 1)
	if changed == string(b) {
		t.Fatalf("%s sets no LEVEL: warn", file)
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "-am", "prod-us-east: log errors only")
	git("push", "-q", "origin", "HEAD:refs/heads/"+planBranch)
}

// goTo follows a hash route in the page, as a link does: no reload.
func goTo(t *testing.T, b *browser.Browser, route string) {
	t.Helper()
	b.WaitFor(fmt.Sprintf("(location.hash = %q) && true", route), time.Second)
}

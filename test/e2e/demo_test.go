package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/test/controlplane"
)

// TestDemoConvergesRevertsAndRollsOut runs `flotilla demo` as a reader of
// the README would, and checks each act of the script in its output: three
// clusters converge, a hand edit is reverted and attributed, a commit
// rolls through every cluster; and that it stops what it started.
//
// Run outside a checkout, the demo cannot build the agent's image, so no
// cluster gets a real node, and it says so.
func TestDemoConvergesRevertsAndRollsOut(t *testing.T) {
	dir := t.TempDir()
	text := runDemo(t, dir, t.TempDir()) // not a checkout: the demo must not need one
	assertDemoScript(t, text)
	for _, want := range []string{
		"no real node: not in a Flotilla checkout",
		"staging        kube-apiserver and etcd only, no node",
		"(Progressive delivery with a Canary needs the real node: skipped.)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	assertDemoStopped(t, filepath.Join(dir, "kubeconfig"))
}

// TestDemoOnARealNode runs `flotilla demo` from the checkout, as `make
// demo` does: staging is a real single-node cluster, its agent a Pod from
// the image the demo built, and the example app answers through its
// Service; the script is the same on every cluster.
func TestDemoOnARealNode(t *testing.T) {
	dir := t.TempDir()
	text := runDemo(t, dir, controlplane.ModuleRoot())
	assertDemoScript(t, text)
	for _, want := range []string{
		"staging        a real node (kubelet, containerd, kube-proxy, CoreDNS)",
		"✔ built the agent's and the app's images from this checkout",
		"staging        Deployment hello/hello Available",
		"Pod flotilla-system/flotilla-agent-",
		"Running on node staging, image " + "10.213.0.1:",
		`(Service hello/hello) -> {"app":"hello","version":"v1.0.0"`,
		// Image automation (docs/images.md): a new tag becomes a commit,
		// then the running version.
		"A new tag of the app in the registry: 10.213.0.1:",
		"; ImageUpdate committed ",
		"Flotilla: staging: ",
		`(Service hello/hello) -> {"app":"hello","version":"v1.1.0"`,
		"prod-us-east   has no node",
		// Progressive delivery (docs/demo.md): a Canary judged by a real
		// Prometheus promotes the good release, rolls back the bad one, and
		// its notes are in Git.
		"Canary canary/app initialized",
		"✔ Progressing: iteration 2/3, failed checks 0/2: request-success-rate 100%",
		"✔ promoted: the primary runs v2.0.0, the apex Service canary/app answers v2.0.0",
		"failed checks 1/2: request-success-rate ",
		"✔ rolled back: the canary is scaled to zero, the apex Service canary/app still answers v2.0.0",
		"$ git fetch origin refs/notes/flotilla:refs/notes/flotilla && git log --notes=flotilla",
		" app: release v2.0.0\n",
		" canary/app Succeeded weight ",
		" app: release v2.1.0, which answers 500 to 50% of requests\n",
		" canary/app Failed weight ",
		"flotilla rollout history app -n canary --context staging",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "SetLogger") {
		t.Errorf("the demo prints controller-runtime's logger warning:\n%s", text)
	}
	assertDemoStopped(t, filepath.Join(dir, "kubeconfig"))
}

// runDemo runs `flotilla demo` in workdir with its files in dir and
// returns its output.
func runDemo(t *testing.T, dir, workdir string) string {
	t.Helper()
	controlplane.Require(t, env) // the demo needs the same binaries
	assets, err := controlplane.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, flotillaBin, "demo", "--assets", assets, "--dir", dir, "--timeout", "2m")
	cmd.Dir = workdir
	// On timeout the demo gets SIGTERM and stops what it started (a
	// real node among them); SIGKILL only if it does not within a minute.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("flotilla demo: %v\n%s", err, out)
	}
	return string(out)
}

// assertDemoScript checks each act of the script in the demo's output.
func assertDemoScript(t *testing.T, text string) {
	t.Helper()
	for _, want := range []string{
		"✔ started 3 clusters",
		"✔ bootstrapped staging", "✔ bootstrapped prod-us-east", "✔ bootstrapped prod-eu-west",
		// staging runs the Stack "secrets" too (SOPS, docs/secrets.md).
		"staging        5 Stacks Ready", "prod-us-east   4 Stacks Ready", "prod-eu-west   4 Stacks Ready",
		"✔ reverted within", `by "kubectl-edit", corrected`,
		"A commit to a shared base",
		`staging        ConfigMap hello/hello-config: GREETING="hello from staging"`,
		`prod-us-east   ConfigMap hello/hello-config: GREETING="hello from prod-us-east"`,
		`prod-eu-west   ConfigMap hello/hello-config: GREETING="hello from prod-eu-west"`,
		"✔ gave staging's agent the demo's age key",
		"staging        Secret hello/db-credentials: password decrypted",
		"-  password: '<masked: changed, before>'",
		"+  password: '<masked: changed, after>'",
		"✔ a signed push webhook reached the Receivers of staging, prod-us-east, prod-eu-west",
		// The demo's Alerts select the Stack apps: one message per cluster.
		"✔ a failure message from each cluster (3 in all)",
		"✔ a resolved message from each cluster (3 in all)",
		// The dashboard serves the fleet while the script runs
		// (docs/dashboard.md); test/dashboard drives it in Chromium.
		"Dashboard: http://127.0.0.1:", "/ (the fleet, live)",
		"Run `flotilla demo --keep` to keep it running and try the CLI and the dashboard on it.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	// The decrypted passwords of the example Secret, in clear or base64.
	for _, secret := range []string{"demo-password-v1", "demo-password-v2", "ZGVtby1wYXNzd29yZC12"} {
		if strings.Contains(text, secret) {
			t.Errorf("the demo's output holds the decrypted Secret (%q)", secret)
		}
	}
	assertFleetTable(t, text)
	// With a real node, image automation adds the commit of the new tag.
	want := 3
	if strings.Contains(text, "A new tag of the app in the registry") {
		want = 4
	}
	if n := strings.Count(text, "✔ 3 clusters at "); n != want {
		t.Errorf("the fleet converged %d times, want %d (first commit, the rollout, the new image tag on a real node, the fix of the broken commit):\n%s", n, want, text)
	}
}

// assertDemoStopped checks that no API server of the demo answers any more.
// An API server of the demo is one whose TLS certificate its cluster's CA
// signed: another package's real node may listen on the same node address
// by then, under another CA.
func assertDemoStopped(t *testing.T, kubeconfig string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatalf("the demo left no kubeconfig: %v", err)
	}
	if len(cfg.Contexts) != 3 {
		t.Errorf("kubeconfig has %d contexts, want 3", len(cfg.Contexts))
	}
	for name, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			t.Fatalf("cluster %s: %v", name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CertificateAuthorityData) {
			t.Fatalf("cluster %s: the kubeconfig holds no CA certificate", name)
		}
		dialer := &net.Dialer{Timeout: 2 * time.Second}
		conn, err := tls.DialWithDialer(dialer, "tcp", u.Host, &tls.Config{RootCAs: pool, ServerName: u.Hostname()})
		if err == nil {
			conn.Close()
			t.Errorf("cluster %s still serves at %s after the demo", name, u.Host)
		}
	}
}

// assertFleetTable checks the `flotilla get stacks --all-contexts` tables
// the demo prints: every Stack of every cluster Ready, in one table.
func assertFleetTable(t *testing.T, text string) {
	t.Helper()
	if !strings.Contains(text, "$ flotilla get stacks --all-contexts\nCLUSTER ") {
		t.Errorf("the demo shows no fleet table:\n%s", text)
		return
	}
	ready := map[string]int{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "True" {
			ready[f[0]+"/"+f[1]]++
		}
	}
	for _, cluster := range []string{"staging", "prod-us-east", "prod-eu-west"} {
		for _, stack := range []string{"cluster", "infrastructure", "infra-configs", "apps"} {
			if ready[cluster+"/"+stack] != 2 { // once after converging, once after the rollout
				t.Errorf("Stack %s of %s is Ready in %d fleet tables, want 2", stack, cluster, ready[cluster+"/"+stack])
			}
		}
	}
}

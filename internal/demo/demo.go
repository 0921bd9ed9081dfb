package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/examples"
	"github.com/flotilla-io/flotilla/internal/localnode"
)

// DefaultClusters are the clusters of examples/fleet.
var DefaultClusters = []string{"staging", "prod-us-east", "prod-eu-west"}

// Namespace is where bootstrap puts the agent and the fleet's objects.
const Namespace = "flotilla-system"

// defaultWait bounds each wait of the script.
const defaultWait = 3 * time.Minute

// Reporter shows the demo's progress: Step lines stay, Waiting is one line
// redrawn while something is awaited (a spinner on a terminal).
type Reporter interface {
	Step(format string, args ...any)
	Waiting(format string, args ...any)
}

// Options configure Run.
type Options struct {
	// Assets holds kube-apiserver and etcd; "" finds them, or prepares them
	// with hack/testenv.sh in a Flotilla checkout.
	Assets string
	// AgentBinary is the flotilla binary each agent runs; "" is this one.
	AgentBinary string
	// Dir holds kubeconfigs, agent data and logs; "" is a temporary
	// directory removed at the end.
	Dir string
	// Keep leaves everything running after the script until ctx ends.
	Keep bool
	// Clusters to start; nil is DefaultClusters. Each must have a
	// clusters/<name> directory in examples/fleet.
	Clusters []string
	// Wait bounds each wait; 0 is three minutes.
	Wait time.Duration
	// Out receives the script's narration and tables.
	Out io.Writer
	// Report shows progress; see Reporter.
	Report Reporter
	// ShowFleet prints the fleet's Stacks from the kubeconfig (every
	// context); nil prints nothing.
	ShowFleet func(ctx context.Context, kubeconfig string, w io.Writer) error
	// ShowDiff runs `flotilla diff stack` on a checkout; nil skips it.
	ShowDiff diffFunc
	// DashboardAddress is where the fleet dashboard is served while the
	// demo runs (the CLI's default is `flotilla dashboard`'s, 127.0.0.1:9400;
	// a free port of the same host when that one is taken); "" or "off"
	// serves none.
	DashboardAddress string
}

// fleet is what Run started, stopped in reverse on the way out.
type fleet struct {
	o          Options
	dir        string
	kubeconfig string
	clusters   []*cluster
	repo       *fleetRepo
	agents     []*agentProcess
	// images are in the real node's registry (none without a node).
	images images
	// stops end what script steps started (Prometheus), at teardown.
	stops []func() error
	// dashboardURL is the dashboard's page, "" when none is served.
	dashboardURL string
}

// Run starts the fleet in a box and runs the script; with Keep, it then
// waits for ctx to end. Everything it started is stopped before it returns.
func Run(ctx context.Context, o Options) (err error) {
	o = o.withDefaults()
	if err := validateClusters(o.Clusters); err != nil {
		return err
	}
	f := &fleet{o: o}
	defer func() { err = errors.Join(err, f.teardown()) }()
	if err := f.start(ctx); err != nil {
		return err
	}
	if err := f.script(ctx); err != nil {
		return err
	}
	f.tryIt()
	if o.Keep {
		fmt.Fprintln(o.Out, "Everything keeps running; press Ctrl-C to stop it.")
		<-ctx.Done()
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Clusters == nil {
		o.Clusters = DefaultClusters
	}
	if o.Wait == 0 {
		o.Wait = defaultWait
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o
}

// validateClusters refuses a cluster list the demo cannot start: empty
// (`--clusters ”`), a blank or repeated name, or a name without a
// clusters/<name> directory in examples/fleet.
func validateClusters(names []string) error {
	valid := exampleClusters()
	if len(names) == 0 {
		return fmt.Errorf("--clusters: no cluster given; choose from %s", strings.Join(valid, ", "))
	}
	seen := map[string]bool{}
	for _, name := range names {
		switch {
		case name == "":
			return fmt.Errorf("--clusters %q: an empty cluster name; choose from %s", strings.Join(names, ","), strings.Join(valid, ", "))
		case seen[name]:
			return fmt.Errorf("--clusters %q: cluster %s is given twice", strings.Join(names, ","), name)
		case !slices.Contains(valid, name):
			return fmt.Errorf("--clusters: %q is not a cluster of examples/fleet (no clusters/%s); choose from %s", name, name, strings.Join(valid, ", "))
		}
		seen[name] = true
	}
	return nil
}

// exampleClusters are the clusters/<name> directories of examples/fleet,
// sorted.
func exampleClusters() []string {
	entries, _ := fs.ReadDir(examples.Fleet, "fleet/clusters")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// start prepares the binaries, starts the clusters, the Git server and an
// agent per cluster, and bootstraps each cluster.
func (f *fleet) start(ctx context.Context) error {
	assets, err := prepareAssets(ctx, f.o.Assets, f.o.Out)
	if err != nil {
		return err
	}
	if err := f.makeDir(); err != nil {
		return err
	}
	if err := f.startClusters(ctx, assets); err != nil {
		return err
	}
	host, customize := "127.0.0.1", func(string) error { return nil }
	if n := f.nodeCluster(); n != nil {
		if f.images, err = f.buildImages(ctx, n.node); err != nil {
			return err
		}
		// The agent Pod fetches from the node's address, as do the agents
		// beside the other clusters.
		host = localnode.NodeIP
		customize = func(work string) error { return pointAtRegistry(work, n.node.Registry.Host) }
	}
	if f.repo, err = newFleetRepo(ctx, filepath.Join(f.dir, "repo"), host, withSecretsStack(f.o.Clusters, customize)); err != nil {
		return err
	}
	f.o.Report.Step("✔ serving examples/fleet at %s (user %s, a random password)", f.repo.url, f.repo.username)
	for _, c := range f.clusters {
		if err := f.bootstrap(ctx, c); err != nil {
			return err
		}
	}
	if err := f.giveDecryptionKey(ctx); err != nil {
		return err
	}
	if err := f.startAgents(); err != nil {
		return err
	}
	return f.startDashboard(ctx)
}

func (f *fleet) makeDir() error {
	f.dir = f.o.Dir
	if f.dir == "" {
		dir, err := os.MkdirTemp("", "flotilla-demo-")
		if err != nil {
			return err
		}
		f.dir = dir
	}
	f.kubeconfig = filepath.Join(f.dir, "kubeconfig")
	return os.MkdirAll(f.dir, 0o700)
}

// startClusters starts every cluster at once and writes the kubeconfig.
// The first cluster gets a real node when this machine allows it.
func (f *fleet) startClusters(ctx context.Context, assets string) error {
	withNode, why := nodeSupport(assets)
	if withNode && f.o.Clusters[0] != DefaultClusters[0] {
		// The fleet's image automation and Canary are staging's.
		withNode, why = false, "the real node is staging's, and --clusters starts without it"
	}
	f.o.Report.Waiting("starting %d clusters (the first with a real node: %t)", len(f.o.Clusters), withNode)
	start := time.Now()
	f.clusters = make([]*cluster, len(f.o.Clusters))
	errs := make([]error, len(f.o.Clusters))
	var wg sync.WaitGroup
	for i, name := range f.o.Clusters {
		if i == 0 && withNode {
			wg.Go(func() { f.clusters[i], errs[i] = startNodeCluster(ctx, name, assets) })
			continue
		}
		wg.Go(func() { f.clusters[i], errs[i] = startCluster(name, assets) })
	}
	wg.Wait()
	f.clusters = compact(f.clusters)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	f.o.Report.Step("✔ started %d clusters in %s: %s", len(f.clusters), since(start), strings.Join(f.o.Clusters, ", "))
	for _, c := range f.clusters {
		if c.node != nil {
			f.o.Report.Step("  %-14s a real node (kubelet, containerd, kube-proxy, CoreDNS) and a local registry: Pods run", c.name)
		} else {
			f.o.Report.Step("  %-14s kube-apiserver and etcd only, no node: Deployments get no Pods", c.name)
		}
	}
	if !withNode {
		f.o.Report.Step("  (no real node: %s)", why)
	}
	return writeKubeconfig(f.kubeconfig, f.clusters)
}

// nodeCluster returns the cluster with a real node, or nil.
func (f *fleet) nodeCluster() *cluster {
	for _, c := range f.clusters {
		if c.node != nil {
			return c
		}
	}
	return nil
}

// compact drops the clusters that did not start.
func compact(cs []*cluster) []*cluster {
	var out []*cluster
	for _, c := range cs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// startAgents runs one agent process per cluster without a node; on the
// real node the agent is the Pod bootstrap installed.
func (f *fleet) startAgents() error {
	for _, c := range f.clusters {
		if c.node != nil {
			continue
		}
		kubeconfig := filepath.Join(f.dir, c.name+".kubeconfig")
		if err := writeKubeconfig(kubeconfig, []*cluster{c}); err != nil {
			return err
		}
		a, err := startAgent(c.name, f.o.AgentBinary, kubeconfig, filepath.Join(f.dir, "agent-"+c.name), filepath.Join(f.dir, "agent-"+c.name+".log"))
		if err != nil {
			return err
		}
		f.agents = append(f.agents, a)
	}
	if len(f.agents) > 0 {
		f.o.Report.Step("✔ started an agent beside each cluster without a node (flotilla agent --kubeconfig ...)")
	}
	return nil
}

// teardown stops what start started, agents first, each kind in parallel.
func (f *fleet) teardown() error {
	if len(f.agents)+len(f.clusters) > 0 {
		f.o.Report.Waiting("stopping %d agents and %d clusters", len(f.agents), len(f.clusters))
	}
	var wg sync.WaitGroup
	stopErrs := make([]error, len(f.stops))
	for i, stop := range f.stops {
		wg.Go(func() { stopErrs[i] = stop() })
	}
	for _, a := range f.agents {
		wg.Go(a.Stop)
	}
	wg.Wait()
	errs := make([]error, len(f.clusters)+2)
	if f.repo != nil {
		errs[0] = f.repo.close()
	}
	for i, c := range f.clusters {
		wg.Go(func() { errs[i+2] = c.stop() })
	}
	wg.Wait()
	if f.o.Dir == "" && f.dir != "" {
		errs[1] = os.RemoveAll(f.dir)
	}
	return errors.Join(append(errs, stopErrs...)...)
}

// since is a duration for people: 2.1s, 340ms.
func since(t time.Time) time.Duration {
	d := time.Since(t)
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

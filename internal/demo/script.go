package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// pollInterval is how often the demo looks at the clusters while waiting.
const pollInterval = 250 * time.Millisecond

// The hand edit and the commit the script makes.
const (
	editedCluster   = 1 // prod-us-east among DefaultClusters
	editManager     = "kubectl-edit"
	commitFile      = "apps/base/hello/configmap.yaml"
	commitOld       = "  LEVEL: info\n"
	commitNew       = "  LEVEL: info\n  GREETING: hello from ${CLUSTER_NAME}\n"
	commitMessage   = "hello: greet from each cluster"
	greetingKey     = "GREETING"
	helloNS         = "hello"
	helloConfig     = "hello-config"
	driftStackName  = "apps"
	rootStackName   = "cluster"
	sourceName      = "fleet"
	revisionPrefix  = "main@sha1:"
	shortSHALength  = 7
	fleetTableTitle = "flotilla get stacks --all-contexts"
)

// script converges the fleet, reverts a hand edit, rolls out a commit and
// follows a new image tag into Git and onto staging.
func (f *fleet) script(ctx context.Context) error {
	head, err := f.repo.git(ctx, f.repo.work, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	if err := f.converge(ctx, head, "converging"); err != nil {
		return err
	}
	f.showFleet(ctx)
	fmt.Fprintln(f.o.Out, "\nThe app (examples/app, built from this checkout) on each cluster:")
	if err := f.showWorkload(ctx); err != nil {
		return err
	}
	if err := f.handEdit(ctx); err != nil {
		return err
	}
	if err := f.rollOut(ctx); err != nil {
		return err
	}
	if err := f.followNewTag(ctx); err != nil {
		return err
	}
	if err := f.showSecrets(ctx); err != nil {
		return err
	}
	if err := f.canaryDelivery(ctx); err != nil {
		return err
	}
	if err := f.alertsAndWebhooks(ctx); err != nil {
		return err
	}
	f.showFleet(ctx)
	return nil
}

// converge waits until every Stack of every cluster is Ready at sha,
// reporting each cluster as it gets there.
func (f *fleet) converge(ctx context.Context, sha, doing string) error {
	start := time.Now()
	revision := revisionPrefix + sha
	done := map[string]bool{}
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for len(done) < len(f.clusters) {
		var states []string
		for _, c := range f.clusters {
			if done[c.name] {
				continue
			}
			ready, total, ok := stacksAt(ctx, c, revision)
			if ok {
				done[c.name] = true
				f.o.Report.Step("  ✔ %-14s %d Stacks Ready at %s after %s", c.name, total, short(sha), since(start))
				continue
			}
			states = append(states, fmt.Sprintf("%s %d/%d", c.name, ready, total))
		}
		if len(states) > 0 {
			f.o.Report.Waiting("%s to %s: %s Stacks Ready", doing, short(sha), strings.Join(states, ", "))
		}
		if err := f.pause(ctx); err != nil {
			return fmt.Errorf("%s to %s: %w (agent logs: %s)", doing, short(sha), err, f.dir)
		}
	}
	f.o.Report.Step("✔ %d clusters at %s in %s", len(f.clusters), short(sha), since(start))
	return nil
}

// pause waits one poll interval, and fails when ctx ends or an agent died.
func (f *fleet) pause(ctx context.Context) error {
	for _, a := range f.agents {
		if err := a.Exited(); err != nil {
			return fmt.Errorf("%s: %w", a.cluster, err)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(pollInterval):
		return nil
	}
}

// stacksAt counts the cluster's Stacks Ready at revision; ok when the root
// Stack and every Stack it created are.
func stacksAt(ctx context.Context, c *cluster, revision string) (ready, total int, ok bool) {
	var list v1alpha1.StackList
	if err := c.client.List(ctx, &list, client.InNamespace(Namespace)); err != nil {
		return 0, 0, false
	}
	rootReady := false
	for _, s := range list.Items {
		if stackspec.ReadyAt(&s, revision) {
			ready++
			rootReady = rootReady || s.Name == rootStackName
		}
	}
	total = len(list.Items)
	return ready, total, rootReady && ready == total
}

// handEdit changes a field Flotilla manages, as a person with kubectl
// would, and waits for the agent to put Git's value back.
func (f *fleet) handEdit(ctx context.Context) error {
	c := f.clusters[min(editedCluster, len(f.clusters)-1)]
	key := client.ObjectKey{Namespace: helloNS, Name: helloConfig}
	var cm corev1.ConfigMap
	if err := c.client.Get(ctx, key, &cm); err != nil {
		return fmt.Errorf("reading ConfigMap %s on %s: %w", key, c.name, err)
	}
	want := cm.Data["REGION"]
	fmt.Fprintf(f.o.Out, "\nA hand edit on %s: kubectl sets REGION=hand-edited in ConfigMap %s (Git says %q)\n", c.name, key, want)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"data":{"REGION":"hand-edited"}}`))
	start := time.Now()
	if err := c.client.Patch(ctx, &cm, patch, client.FieldOwner(editManager)); err != nil {
		return fmt.Errorf("editing ConfigMap %s on %s: %w", key, c.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for cm.Data["REGION"] != want {
		f.o.Report.Waiting("waiting for the agent of %s to revert the edit", c.name)
		if err := f.pause(ctx); err != nil {
			return fmt.Errorf("waiting for the hand edit to be reverted: %w", err)
		}
		if err := c.client.Get(ctx, key, &cm); err != nil {
			return err
		}
	}
	f.o.Report.Step("✔ reverted within %s: REGION=%s again", since(start), want)
	f.reportDrift(ctx, c)
	return nil
}

// reportDrift prints what the Stack recorded about the edit.
func (f *fleet) reportDrift(ctx context.Context, c *cluster) {
	var s v1alpha1.Stack
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: driftStackName}, &s); err != nil || len(s.Status.Drift) == 0 {
		return
	}
	d := s.Status.Drift[0]
	f.o.Report.Step("✔ Stack %s recorded it: %s %s by %q, %s (see: flotilla drift --context %s)",
		driftStackName, d.Object, strings.Join(d.Fields, ","), d.Manager, d.Action, c.name)
}

// rollOut commits a change to a base every cluster uses, pushes it, asks
// each cluster's source to fetch now (as a webhook would) and waits for
// the fleet to apply it.
func (f *fleet) rollOut(ctx context.Context) error {
	if err := f.repo.edit(commitFile, commitOld, commitNew); err != nil {
		return err
	}
	sha, err := f.repo.commitAndPush(ctx, commitMessage)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.o.Out, "\nA commit to a shared base: %s %q (%s: + %s)\n", short(sha), commitMessage, commitFile, strings.TrimSpace(strings.TrimPrefix(commitNew, commitOld)))
	if err := f.requestFetches(ctx); err != nil {
		return err
	}
	f.o.Report.Step("✔ asked each cluster's GitRepository to fetch now (a webhook does this in production; otherwise its interval)")
	if err := f.converge(ctx, sha, "rolling out"); err != nil {
		return err
	}
	return f.showGreetings(ctx)
}

// requestFetches asks every cluster's GitRepository to fetch now.
func (f *fleet) requestFetches(ctx context.Context) error {
	for _, c := range f.clusters {
		if err := requestFetch(ctx, c); err != nil {
			return fmt.Errorf("asking %s to fetch: %w", c.name, err)
		}
	}
	return nil
}

// requestFetch asks the cluster's GitRepository to fetch now, as a webhook
// or `flotilla reconcile source` does.
func requestFetch(ctx context.Context, c *cluster) error {
	src := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: sourceName}}
	return c.client.Patch(ctx, src, v1alpha1.ReconcileRequestPatch(v1alpha1.ReconcileRequestValue(time.Now())))
}

// showGreetings reads the value the commit added on every cluster: one
// base, each cluster's own substitution.
func (f *fleet) showGreetings(ctx context.Context) error {
	key := client.ObjectKey{Namespace: helloNS, Name: helloConfig}
	for _, c := range f.clusters {
		var cm corev1.ConfigMap
		if err := c.client.Get(ctx, key, &cm); err != nil {
			return fmt.Errorf("reading ConfigMap %s on %s: %w", key, c.name, err)
		}
		want := "hello from " + c.name
		if got := cm.Data[greetingKey]; got != want {
			return fmt.Errorf("ConfigMap %s on %s has %s=%q after the rollout, want %q", key, c.name, greetingKey, got, want)
		}
		f.o.Report.Step("  ✔ %-14s ConfigMap %s: %s=%q", c.name, key, greetingKey, cm.Data[greetingKey])
	}
	return nil
}

// showFleet prints the fleet's Stacks, as `flotilla get` shows them.
func (f *fleet) showFleet(ctx context.Context) {
	if f.o.ShowFleet == nil {
		return
	}
	fmt.Fprintf(f.o.Out, "\n$ %s\n", fleetTableTitle)
	if err := f.o.ShowFleet(ctx, f.kubeconfig, f.o.Out); err != nil {
		fmt.Fprintf(f.o.Out, "(%v)\n", err)
	}
}

// tryIt prints how to use the CLI on the running fleet.
func (f *fleet) tryIt() {
	fmt.Fprintf(f.o.Out, "\nThe fleet's kubeconfig has a context per cluster: %s\n", strings.Join(f.o.Clusters, ", "))
	if !f.o.Keep {
		fmt.Fprintln(f.o.Out, "Run `flotilla demo --keep` to keep it running and try the CLI and the dashboard on it.")
		return
	}
	fmt.Fprintf(f.o.Out, "In another terminal:\n  export KUBECONFIG=%s\n", f.kubeconfig)
	for _, cmd := range []string{
		"flotilla get stacks --all-contexts",
		"flotilla tree stack cluster --context " + f.o.Clusters[0],
		"flotilla drift --all-namespaces --context " + f.o.Clusters[min(editedCluster, len(f.o.Clusters)-1)],
		"flotilla reconcile stack apps --with-source --context " + f.o.Clusters[0],
	} {
		fmt.Fprintf(f.o.Out, "  %s\n", cmd)
	}
	if f.dashboardURL != "" {
		fmt.Fprintf(f.o.Out, "%s\n", f.dashboardLine())
	}
	fmt.Fprintf(f.o.Out, "Agent logs are in %s.\n", f.dir)
}

// short is a commit SHA as people read it.
func short(sha string) string {
	if len(sha) > shortSHALength {
		return sha[:shortSHALength]
	}
	return sha
}

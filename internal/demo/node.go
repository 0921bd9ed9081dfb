package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/internal/version"
)

// The example fleet's app, as Git names it, and where the demo serves it.
const (
	appImageName = "ghcr.io/flotilla-io/example-app"
	appTag       = "v1.0.0"
	appNamespace = "hello"
	appName      = "hello"
	stagingApps  = "apps/overlays/staging/kustomization.yaml"
)

// nodeSupport says whether the demo can give a cluster a real node, and
// why not when it cannot.
func nodeSupport(assets string) (bool, string) {
	if err := localnode.Preflight(); err != nil {
		return false, err.Error()
	}
	if !hasNodeAssets(assets) {
		return false, "the node's binaries are not in " + assets + " (run `make testenv`)"
	}
	if _, err := checkoutRoot(); err != nil {
		return false, "not in a Flotilla checkout, so the agent's image cannot be built"
	}
	return true, ""
}

// images are the references the demo pushed to the real node's registry.
type images struct {
	agent, app string
}

// buildImages builds the flotilla binary and the example app from the
// checkout as static Linux binaries, packs them as images and pushes them
// to the node's registry.
func (f *fleet) buildImages(ctx context.Context, n *localnode.Cluster) (images, error) {
	f.o.Report.Waiting("building the agent's and the app's images from the checkout")
	start := time.Now()
	root, err := checkoutRoot()
	if err != nil {
		return images{}, err
	}
	dir := filepath.Join(f.dir, "images")
	v := version.Get().Version
	agentBin, appBin := filepath.Join(dir, "flotilla"), filepath.Join(dir, "app-"+appTag)
	ldflags := "-s -w -X github.com/flotilla-io/flotilla/internal/version.Version=" + v
	if err := ociimage.BuildGo(ctx, root, "./cmd/flotilla", agentBin, ldflags, "linux", runtime.GOARCH); err != nil {
		return images{}, err
	}
	agent, err := ociimage.AgentImage(agentBin, ociimage.BuildInfo{Version: v})
	if err != nil {
		return images{}, err
	}
	app, err := buildApp(ctx, root, appBin, appTag)
	if err != nil {
		return images{}, err
	}
	refs := images{
		agent: n.Registry.Host + "/flotilla:" + install.ImageTag(v),
		app:   n.Registry.Host + "/example-app:" + appTag,
	}
	if _, err := n.Push(ctx, agent, refs.agent); err != nil {
		return images{}, err
	}
	if _, err := n.Push(ctx, app, refs.app); err != nil {
		return images{}, err
	}
	f.o.Report.Step("✔ built the agent's and the app's images from this checkout and pushed them to the node's registry in %s: %s, %s", since(start), refs.agent, refs.app)
	return refs, nil
}

// showWorkload waits until the app is Available on every cluster with a
// node and shows its Pods and an answer through its Service.
func (f *fleet) showWorkload(ctx context.Context) error {
	for _, c := range f.clusters {
		if c.node == nil {
			f.o.Report.Step("  - %-14s has no node: its Deployments get no Pods (the API server alone)", c.name)
			continue
		}
		if err := f.waitAvailable(ctx, c); err != nil {
			return err
		}
		if err := f.showPods(ctx, c); err != nil {
			return err
		}
		if err := f.showAnswer(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (f *fleet) waitAvailable(ctx context.Context, c *cluster) error {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	start := time.Now()
	key := client.ObjectKey{Namespace: appNamespace, Name: appName}
	for {
		var d appsv1.Deployment
		err := c.client.Get(ctx, key, &d)
		if err == nil && d.Spec.Replicas != nil && d.Status.ObservedGeneration == d.Generation &&
			d.Status.AvailableReplicas >= *d.Spec.Replicas && d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.Replicas == *d.Spec.Replicas {
			f.o.Report.Step("  ✔ %-14s Deployment %s Available: %d/%d Pods ready after %s", c.name, key, d.Status.AvailableReplicas, *d.Spec.Replicas, since(start))
			return nil
		}
		f.o.Report.Waiting("waiting for Deployment %s on %s to be Available", key, c.name)
		if err := f.pause(ctx); err != nil {
			return fmt.Errorf("waiting for Deployment %s on %s to be Available: %w", key, c.name, err)
		}
	}
}

// showPods lists the Pods of the agent and of the app.
func (f *fleet) showPods(ctx context.Context, c *cluster) error {
	for _, ns := range []string{Namespace, appNamespace} {
		var pods corev1.PodList
		if err := c.client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, p := range pods.Items {
			f.o.Report.Step("    Pod %s/%s %s on node %s, image %s", ns, p.Name, p.Status.Phase, p.Spec.NodeName, p.Spec.Containers[0].Image)
		}
	}
	return nil
}

// showAnswer GETs the app through its Service's ClusterIP (kube-proxy
// routes it from this machine too), retrying while kube-proxy programs the
// Service's endpoints.
func (f *fleet) showAnswer(ctx context.Context, c *cluster) error {
	return f.showAnswerWith(ctx, c, "")
}

// showAnswerWith is showAnswer retrying until the answer contains want
// (the version a rollout brings), while Pods of the old one still answer.
func (f *fleet) showAnswerWith(ctx context.Context, c *cluster, want string) error {
	var svc corev1.Service
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: appNamespace, Name: appName}, &svc); err != nil {
		return err
	}
	url := fmt.Sprintf("http://%s/", svc.Spec.ClusterIP)
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		body, err := getJSON(ctx, url)
		if err == nil && !strings.Contains(body, want) {
			err = fmt.Errorf("answered %s, waiting for %s", body, want)
		}
		if err == nil {
			f.o.Report.Step("  ✔ %-14s GET %s (Service %s/%s) -> %s", c.name, url, appNamespace, appName, body)
			return nil
		}
		f.o.Report.Waiting("GET %s (Service %s/%s on %s): %v", url, appNamespace, appName, c.name, err)
		if perr := f.pause(ctx); perr != nil {
			return fmt.Errorf("GET %s (Service %s/%s on %s): %w (%w)", url, appNamespace, appName, c.name, err, perr)
		}
	}
}

// getJSON GETs url and returns its JSON body.
func getJSON(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !json.Valid(body) {
		return "", fmt.Errorf("%s: %s", resp.Status, body)
	}
	return strings.TrimSpace(string(body)), nil
}

package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/apply"
)

// floorManager is the field manager of the floor's requests.
const floorManager = "floor"

// floorConcurrency is the apply engine's: requests in flight within a stage.
var floorConcurrency = apply.DefaultOptions().Concurrency

// runFloor applies the objects of files the least a program can: it
// parses them (not timed), then sends one server-side apply request per
// object, Namespaces and CRDs first, waits until discovery serves the
// CRDs' kinds, then the rest, floorConcurrency at a time, with the client
// rate limit of the agent. It returns the time from the first request to
// the last response.
func runFloor(ctx context.Context, cfg *rest.Config, o options, files map[string]string) (time.Duration, error) {
	objs, err := decodeFiles(files)
	if err != nil {
		return 0, err
	}
	first, others := splitDefinitions(objs)
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = o.qps()
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		return 0, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := applyAll(ctx, cl, first); err != nil {
		return 0, err
	}
	for _, crd := range first {
		if crd.GetKind() == "CustomResourceDefinition" {
			if err := waitServed(ctx, disc, crd); err != nil {
				return 0, err
			}
		}
	}
	if err := applyAll(ctx, cl, others); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// runPruneFloor deletes the objects of paths in files the least a
// program can: one DELETE per object (background propagation),
// floorConcurrency at a time, with the agent's client rate limit. It
// returns the time from the first request to the last response.
func runPruneFloor(ctx context.Context, cfg *rest.Config, o options, files map[string]string, paths []string) (time.Duration, error) {
	removed := make(map[string]string, len(paths))
	for _, p := range paths {
		removed[p] = files[p]
	}
	objs, err := decodeFiles(removed)
	if err != nil {
		return 0, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = o.qps()
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(floorConcurrency)
	for _, u := range objs {
		g.Go(func() error {
			if err := cl.Delete(gctx, u, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
				return fmt.Errorf("deleting %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// decodeFiles parses one object per file, in name order.
func decodeFiles(files map[string]string) ([]*unstructured.Unstructured, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	objs := make([]*unstructured.Unstructured, 0, len(paths))
	for _, p := range paths {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(files[p]), &u.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// splitDefinitions returns the Namespaces and CRDs apart from the rest.
func splitDefinitions(objs []*unstructured.Unstructured) (first, others []*unstructured.Unstructured) {
	for _, u := range objs {
		switch u.GetKind() {
		case "Namespace", "CustomResourceDefinition":
			first = append(first, u)
		default:
			others = append(others, u)
		}
	}
	return first, others
}

// applyAll server-side applies objs, floorConcurrency at a time.
func applyAll(ctx context.Context, cl client.Client, objs []*unstructured.Unstructured) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(floorConcurrency)
	for _, u := range objs {
		g.Go(func() error {
			err := cl.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(floorManager), client.ForceOwnership)
			if err != nil {
				return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// waitServed waits until discovery lists the resource of crd in every
// version it serves.
func waitServed(ctx context.Context, disc discovery.DiscoveryInterface, crd *unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, apply.DefaultOptions().CRDTimeout)
	defer cancel()
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
		gv := group + "/" + name
		for !served(disc, gv, plural) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s to serve %s: %w", gv, plural, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

func served(disc discovery.DiscoveryInterface, gv, plural string) bool {
	list, err := disc.ServerResourcesForGroupVersion(gv)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural })
}

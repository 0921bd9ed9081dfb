package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
)

// pruneFiles returns the files the prune commit removes: every other
// object file, in name order, outside dir/cluster/ (where harness.Mixed
// puts the Namespaces and the CRD): half of the other objects, rounded
// down.
func pruneFiles(files map[string]string, dir string) []string {
	var objects []string
	for p := range files {
		if !strings.HasPrefix(p, path.Join(dir, "cluster")+"/") {
			objects = append(objects, p)
		}
	}
	slices.Sort(objects)
	removed := make([]string, 0, len(objects)/2)
	for i, p := range objects {
		if i%2 == 1 {
			removed = append(removed, p)
		}
	}
	return removed
}

// objectRef names one object of a file.
type objectRef struct {
	gvk             schema.GroupVersionKind
	namespace, name string
}

// refsOf reads the object of each of paths in files.
func refsOf(files map[string]string, paths []string) ([]objectRef, error) {
	refs := make([]objectRef, 0, len(paths))
	for _, p := range paths {
		var head struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Metadata   metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(files[p]), &head); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		gv, err := schema.ParseGroupVersion(head.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		refs = append(refs, objectRef{gvk: gv.WithKind(head.Kind), namespace: head.Metadata.Namespace, name: head.Metadata.Name})
	}
	return refs, nil
}

// measurePrunes measures the floor's deletes and Flotilla's prune, in the
// order of res.floorFirst.
func measurePrunes(ctx context.Context, c *cluster, n int, files map[string]string, res *sizeResult, log *harness.Progress) error {
	floor := func() error {
		floorFiles := harness.Mixed(floorPrefix, floorPrefix, n, gitValue)
		removed := pruneFiles(floorFiles, floorPrefix)
		log.Printf("floor: deleting %d objects", len(removed))
		d, err := runPruneFloor(ctx, c.env.Config, c.o, floorFiles, removed)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		res.pruneFloor = d
		log.Printf("floor: %s", d.Round(time.Millisecond))
		return nil
	}
	if res.floorFirst {
		if err := floor(); err != nil {
			return err
		}
	}
	var err error
	if res.pruned, res.prune, err = measurePrune(ctx, c, files, log); err != nil {
		return err
	}
	if !res.floorFirst {
		return floor()
	}
	return nil
}

// measurePrune pushes a commit without pruneFiles, requests a reconcile of
// the GitRepository at once, and times from the push until the Stack is
// Ready at the new revision and none of the removed objects is left.
func measurePrune(ctx context.Context, c *cluster, files map[string]string, log *harness.Progress) (int, time.Duration, error) {
	removed := pruneFiles(files, stackPath)
	refs, err := refsOf(files, removed)
	if err != nil {
		return 0, 0, err
	}
	log.Printf("prune: removing %d object files", len(removed))
	rev, err := c.commit(nil, removed, fmt.Sprintf("remove %d objects", len(removed)))
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := c.profiled(ctx, "prune", func() error { return c.awaitPrune(ctx, rev, refs) }); err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	log.Printf("prune: %d objects removed in %s", len(refs), d.Round(time.Millisecond))
	return len(refs), d, nil
}

// awaitPrune requests a reconcile of the GitRepository and waits until the
// Stack is Ready at rev and none of refs is left.
func (c *cluster) awaitPrune(ctx context.Context, rev string, refs []objectRef) error {
	repo := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: repoName}}
	if _, err := c.requestReconcile(ctx, repo); err != nil {
		return err
	}
	if err := c.waitStack(ctx, rev, ""); err != nil {
		return err
	}
	return c.poll(ctx, c.o.timeout, fmt.Sprintf("the %d removed objects to be gone", len(refs)), func() error {
		left, err := c.present(ctx, refs)
		if err != nil || left == 0 {
			return err
		}
		return fmt.Errorf("%d left", left)
	})
}

// present counts the objects of refs that exist, with one metadata LIST
// per kind across all namespaces.
func (c *cluster) present(ctx context.Context, refs []objectRef) (int, error) {
	want := map[schema.GroupVersionKind]map[string]bool{}
	for _, r := range refs {
		if want[r.gvk] == nil {
			want[r.gvk] = map[string]bool{}
		}
		want[r.gvk][r.namespace+"/"+r.name] = true
	}
	n := 0
	for gvk, names := range want {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.env.Client.List(ctx, list); err != nil {
			return 0, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for _, item := range list.Items {
			if names[client.ObjectKeyFromObject(&item).String()] {
				n++
			}
		}
	}
	return n, nil
}

package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// Layout of the fleet repository.
const (
	// baseDir is the shared base every cluster renders.
	baseDir = "base"
	// namespacePrefix names the base's Namespaces: fleet-0, fleet-1...
	namespacePrefix = "fleet"
	// clusterLabel is the label each overlay puts on its objects.
	clusterLabel = "fleet.flotilla.io/cluster"
)

// clusterPath is the Stack path of the named cluster.
func clusterPath(name string) string { return "clusters/" + name }

// repoFiles returns the repository, path -> content: a shared base of
// objects objects (harness.Mixed, each ConfigMap, Secret, Deployment and
// Widget carrying value) and, per cluster, clusters/<name>/ with a
// kustomization that renders the base with the label clusterLabel=<name>
// on every object, plus a ConfigMap cluster-info of its own. Every cluster
// renders objects+1 objects, its own set.
func repoFiles(clusters []string, objects int, value string) map[string]string {
	files := harness.Mixed(baseDir, namespacePrefix, objects, value)
	var resources []string
	for p := range files {
		resources = append(resources, strings.TrimPrefix(p, baseDir+"/"))
	}
	slices.Sort(resources)
	files[path.Join(baseDir, "kustomization.yaml")] = kustomization(resources)
	for _, name := range clusters {
		dir := clusterPath(name)
		files[path.Join(dir, "kustomization.yaml")] = kustomization([]string{"../../" + baseDir, "cluster-info.yaml"}) +
			fmt.Sprintf("labels:\n- pairs:\n    %s: %s\n", clusterLabel, name)
		files[path.Join(dir, "cluster-info.yaml")] = fmt.Sprintf(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-info\n  namespace: %s-0\ndata:\n  cluster: %s\n", namespacePrefix, name)
	}
	return files
}

// baseChange returns the files of the base that change when the shared
// value becomes value: the commit of the rollout figure.
func baseChange(objects int, value string) map[string]string {
	return harness.Mixed(baseDir, namespacePrefix, objects, value)
}

func kustomization(resources []string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	return b.String()
}

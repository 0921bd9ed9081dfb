package fleet

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// statuses returns each cluster's status.
func statuses(res *Result) map[string]ClusterStatus {
	out := map[string]ClusterStatus{}
	for _, c := range res.Clusters {
		out[c.Name] = c.Status
	}
	return out
}

func TestPlanWithoutChangeChangesNothing(t *testing.T) {
	dir := repoWith(t, exampleFleet(t), nil)
	res := planRepo(t, dir, "HEAD", WorkingTree)
	if res.Changed() || len(res.Failures()) > 0 || len(res.AllWarnings()) > 0 {
		t.Fatalf("a plan without change reports changes: %+v", statuses(res))
	}
	golden(t, "example-no-change.txt", outputs(t, res)["text"])
}

func TestPlanOverlayChangeReachesOneCluster(t *testing.T) {
	files := exampleFleet(t)
	head := map[string]string{"apps/overlays/staging/kustomization.yaml": edit(t, files, "apps/overlays/staging/kustomization.yaml", "replicas: 1", "replicas: 2")}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	want := map[string]ClusterStatus{"prod-eu-west": ClusterUnchanged, "prod-us-east": ClusterUnchanged, "staging": ClusterChanged}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("cluster statuses (-want +got):\n%s", diff)
	}
	golden(t, "example-overlay-change.txt", outputs(t, res)["text"])
}

func TestPlanBaseChangeReachesEveryCluster(t *testing.T) {
	files := exampleFleet(t)
	const cm = "apps/base/hello/configmap.yaml"
	const dep = "apps/base/hello/deployment.yaml"
	head := map[string]string{
		cm:  edit(t, files, cm, "LEVEL: info", "LEVEL: debug\n  FEATURES: |\n    search\n    cart"),
		dep: edit(t, files, dep, "example-app:v1", "example-app:v2"),
	}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	for name, st := range statuses(res) {
		if st != ClusterChanged {
			t.Errorf("cluster %s is %s, want changed", name, st)
		}
	}
	outs := outputs(t, res)
	golden(t, "example-base-change.txt", outs["text"])
	golden(t, "example-base-change.md", outs["markdown"])
	golden(t, "example-base-change.json", outs["json"])
}

func TestPlanPruneWarns(t *testing.T) {
	files := exampleFleet(t)
	const k = "apps/base/hello/kustomization.yaml"
	const infra = "clusters/staging/infra-configs.yaml"
	head := map[string]string{
		k:     edit(t, files, k, "  - hpa.yaml\n", ""),
		infra: edit(t, files, infra, "prune: true", "prune: false"),
		"infrastructure/configs/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
		"infrastructure/base/kustomization.yaml":    edit(t, files, "infrastructure/base/kustomization.yaml", "  - monitoring\n", ""),
	}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	kinds := map[WarningKind]int{}
	for _, w := range res.AllWarnings() {
		kinds[w.Kind]++
	}
	// HPA on 3 clusters; ServiceMonitor CRD; Namespace monitoring; the rest
	// of monitoring; the ClusterIssuer, orphaned on staging (prune: false).
	for _, k := range []WarningKind{WarnPrune, WarnCRD, WarnNamespace, WarnOrphan} {
		if kinds[k] == 0 {
			t.Errorf("no %s warning; warnings: %+v", k, res.AllWarnings())
		}
	}
	golden(t, "example-prune.txt", outputs(t, res)["text"])
}

func TestPlanPruneHeldBackByTheCapAsTheAgentWould(t *testing.T) {
	files := exampleFleet(t)
	const k = "apps/base/hello/kustomization.yaml"
	original := files[k]
	var extra strings.Builder
	for i := range 10 {
		name := fmt.Sprintf("apps/base/hello/extra-%02d.yaml", i)
		files[name] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-%02d\n  namespace: hello\n", i)
		fmt.Fprintf(&extra, "  - extra-%02d.yaml\n", i)
	}
	files[k] = edit(t, files, k, "  - sealedsecret.yaml\n", "  - sealedsecret.yaml\n"+extra.String())
	// Head drops the ten: more than half of each apps Stack's objects.
	res := planRepo(t, repoWith(t, files, map[string]string{k: original}), "HEAD~1", "HEAD")
	capped := map[string]string{}
	for _, w := range res.AllWarnings() {
		switch {
		case w.Kind == WarnPruneCap:
			capped[w.Cluster] = w.Message
		case w.Kind == WarnPrune && strings.Contains(w.Object, "extra-"):
			t.Errorf("%s: %s %s: the cap holds it back, it must not be listed as deleted", w.Cluster, w.Object, w.Message)
		}
	}
	for _, c := range []string{"staging", "prod-us-east", "prod-eu-west"} {
		if !strings.Contains(capped[c], "refusing to prune 10 of the 16 objects") {
			t.Errorf("cluster %s: prune-cap warning = %q", c, capped[c])
		}
	}
}

func TestPlanBrokenOverlayNamesClusterFileAndLine(t *testing.T) {
	files := exampleFleet(t)
	const k = "apps/overlays/prod-eu-west/kustomization.yaml"
	head := map[string]string{k: edit(t, files, k, "resources:\n", "resources:\n  - [unclosed\n")}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	failures := res.Failures()
	if len(failures) != 1 {
		t.Fatalf("failures = %+v, want one", failures)
	}
	f := failures[0]
	if f.Cluster != "prod-eu-west" || f.Stack != "apps" || f.Path != k || f.Line == 0 {
		t.Errorf("failure = %+v, want cluster prod-eu-west, Stack apps, %s and a line", f, k)
	}
	if st := statuses(res); st["staging"] != ClusterUnchanged || st["prod-eu-west"] != ClusterFailed {
		t.Errorf("statuses = %v: the other clusters must still be planned", st)
	}
	text := outputs(t, res)["text"]
	if !strings.Contains(text, "1 of 3 clusters would fail to render") {
		t.Errorf("text does not say how many clusters fail:\n%s", text)
	}
	golden(t, "example-broken-overlay.txt", text)
}

func TestPlanImmutableFieldWarnsAboutForce(t *testing.T) {
	files := exampleFleet(t)
	const dep = "apps/base/hello/deployment.yaml"
	const apps = "clusters/staging/apps.yaml"
	base := with(files, map[string]string{apps: edit(t, files, apps, "prune: true", "prune: true\n  force: true")})
	head := map[string]string{dep: strings.ReplaceAll(files[dep], "app.kubernetes.io/name: hello", "app.kubernetes.io/name: hello-v2")}
	res := planRepo(t, repoWith(t, base, head), "HEAD~1", "HEAD")
	msgs := map[string]string{}
	for _, w := range res.AllWarnings() {
		if w.Kind == WarnImmutable {
			msgs[w.Cluster] = w.Message
		}
	}
	if m := msgs["prod-us-east"]; !strings.Contains(m, "spec.selector") || !strings.Contains(m, "the apply will fail; set force: true") {
		t.Errorf("prod-us-east warning = %q, want spec.selector and how to force", m)
	}
	if m := msgs["staging"]; !strings.Contains(m, "force: true, so the object will be deleted and recreated") {
		t.Errorf("staging (force: true) warning = %q, want the object recreated", m)
	}
	if len(msgs) != 3 {
		t.Errorf("immutable warnings = %v, want one per cluster", msgs)
	}
}

func TestPlanStacksItCannotPlan(t *testing.T) {
	files := exampleFleet(t)
	const apps = "clusters/staging/apps.yaml"
	const infra = "clusters/prod-us-east/infrastructure.yaml"
	head := map[string]string{
		apps:  edit(t, files, apps, "    substitute:\n", "    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n    substitute:\n"),
		infra: edit(t, files, infra, "name: fleet", "name: vendor-charts"),
	}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	got := map[string]StackStatus{}
	for _, c := range res.Clusters {
		for _, s := range c.Stacks {
			got[c.Name+"/"+s.Name] = s.Status
		}
	}
	if got["staging/apps"] != StackCannotPlan || got["prod-us-east/infrastructure"] != StackNotPlanned {
		t.Errorf("statuses = %v, want staging/apps cannot-plan and prod-us-east/infrastructure not-planned", got)
	}
	golden(t, "example-cannot-plan.txt", outputs(t, res)["text"])
}

func TestPlanVariablesFromTheRepositoryAreUsed(t *testing.T) {
	files := exampleFleet(t)
	const apps = "clusters/staging/apps.yaml"
	const k = "clusters/staging/kustomization.yaml"
	head := map[string]string{
		"clusters/staging/vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flotilla-system\ndata:\n  API_ENDPOINT: https://api.staging.example.com\n",
		k:                            edit(t, files, k, "  - apps.yaml\n", "  - apps.yaml\n  - vars.yaml\n"),
		apps:                         edit(t, files, apps, "    substitute:\n", "    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n    substitute:\n"),
	}
	res := planRepo(t, repoWith(t, files, head), "HEAD~1", "HEAD")
	text := outputs(t, res)["text"]
	if !strings.Contains(text, `data.ENDPOINT: "https://api.example.com" -> "https://api.staging.example.com"`) {
		t.Errorf("the ConfigMap's variable is not substituted:\n%s", text)
	}
}

func TestPlanDefaultBaseIsTheMergeBaseWithMain(t *testing.T) {
	files := exampleFleet(t)
	dir := repoWith(t, files, nil)
	const k = "apps/overlays/staging/kustomization.yaml"
	if err := gitRun(dir, "checkout", "-q", "-b", "feature"); err != nil {
		t.Fatal(err)
	}
	if err := commitFiles(dir, map[string]string{k: edit(t, files, k, "replicas: 1", "replicas: 2")}); err != nil {
		t.Fatal(err)
	}
	res := planRepo(t, dir, "", WorkingTree)
	if res.Base.Description != "merge-base of HEAD and main" || res.Head.Name != "working tree" {
		t.Errorf("revisions = %+v -> %+v", res.Base, res.Head)
	}
	if st := statuses(res); st["staging"] != ClusterChanged || st["prod-us-east"] != ClusterUnchanged {
		t.Errorf("statuses = %v, want staging changed by the feature branch", st)
	}
}

func TestPlanFleetInASubdirectoryOfTheClone(t *testing.T) {
	files := map[string]string{"README.md": "a monorepo\n"}
	for p, c := range exampleFleet(t) {
		files["deploy/fleet/"+p] = c
	}
	dir := repoWith(t, files, nil)
	const k = "deploy/fleet/apps/overlays/staging/kustomization.yaml"
	if err := fleettest.Write(dir, map[string]string{k: edit(t, files, k, "replicas: 1", "replicas: 5")}); err != nil {
		t.Fatal(err)
	}
	res := planRepo(t, filepath.Join(dir, "deploy", "fleet"), "HEAD", WorkingTree)
	if st := statuses(res); len(st) != 3 || st["staging"] != ClusterChanged || st["prod-eu-west"] != ClusterUnchanged {
		t.Errorf("statuses = %v, want the three clusters of deploy/fleet, staging changed", st)
	}
}

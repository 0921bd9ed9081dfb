package fleet

import (
	"bytes"
	"strings"
	"testing"
)

// everyStateResult is a plan that holds every cluster, Stack, field and
// warning state, for the report golden files.
func everyStateResult() *Result {
	cm := func(ns, name string) ObjectRef {
		return ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name}
	}
	deploy := ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "hello", Name: "web"}
	apps := StackPlan{Name: "apps", Namespace: DefaultNamespace, Path: "apps/prod", Status: StackChanged, Prune: true,
		Added: []ObjectRef{cm("hello", "new-settings")},
		Changed: []ObjectChange{{Object: deploy, Fields: []FieldChange{
			{Path: "spec.replicas", Op: FieldChanged, Before: "2", After: "3"},
			{Path: "spec.template.spec.containers[name=web].image", Op: FieldChanged, Before: `"web:1.0"`, After: `"web:1.1"`},
			{Path: `metadata.labels["app.kubernetes.io/version"]`, Op: FieldAdded, After: `"1.1"`},
			{Path: "metadata.annotations.note", Op: FieldRemoved, Before: `"old"`},
		}}, {Object: ObjectRef{Version: "v1", Kind: "Secret", Namespace: "hello", Name: "token"}, Fields: []FieldChange{
			{Path: "data.token", Op: FieldChanged, Hidden: true},
		}}, {Object: cm("hello", "conf"), Fields: []FieldChange{
			{Path: "data.nginx.conf", Op: FieldChanged, Lines: []string{"- worker_processes 1;", "+ worker_processes 2;"}},
		}}},
		Removed: []ObjectRef{cm("hello", "old-settings")},
	}
	root := StackPlan{Name: RootStack, Namespace: DefaultNamespace, Path: "clusters/prod", Status: StackUnchanged, Prune: true}
	warnings := func(cluster string) []Warning {
		return []Warning{
			{Kind: WarnPrune, Cluster: cluster, Stack: "apps", Object: "ConfigMap hello/old-settings", Message: "will be deleted (pruned)"},
			{Kind: WarnImmutable, Cluster: cluster, Stack: "apps", Object: "Deployment hello/web", Message: "immutable field changed (spec.selector.matchLabels.app): the apply will fail; set force: true on the Stack to recreate the object, or keep the field"},
		}
	}
	return &Result{
		Base:     Revision{Name: "1a2b3c4", Description: "merge-base of HEAD and main"},
		Head:     Revision{Name: "working tree", Description: "working tree"},
		Warnings: []Warning{{Kind: WarnWide, Message: "this change reaches 3 of 5 clusters (more than 2): consider rolling it out in steps"}},
		Clusters: []ClusterPlan{
			{Name: "prod-eu", Status: ClusterChanged, Stacks: []StackPlan{root, apps}, Failures: []Failure{}, Warnings: warnings("prod-eu")},
			{Name: "prod-us", Status: ClusterChanged, Stacks: []StackPlan{root, apps}, Failures: []Failure{}, Warnings: warnings("prod-us")},
			{Name: "staging", Status: ClusterFailed, Stacks: []StackPlan{
				root,
				{Name: "apps", Namespace: DefaultNamespace, Path: "apps/staging", Status: StackFailed, Reason: "kustomization.yaml: resource missing.yaml not found"},
				{Name: "new", Namespace: DefaultNamespace, Path: "apps/new", Status: StackAdded, Added: []ObjectRef{cm("new", "a")}},
				{Name: "gone", Namespace: DefaultNamespace, Path: "apps/gone", Status: StackRemoved, Removed: []ObjectRef{{Version: "v1", Kind: "Namespace", Name: "gone"}}},
				{Name: "charts", Namespace: DefaultNamespace, Path: "charts", Status: StackNotPlanned, Reason: "it reads GitRepository flotilla-system/charts, not the fleet repository"},
				{Name: "vars", Namespace: DefaultNamespace, Path: "apps/vars", Status: StackCannotPlan, Reason: "postBuild.substituteFrom reads ConfigMap flotilla-system/cluster-vars from the cluster"},
			}, Failures: []Failure{{Cluster: "staging", Stack: "apps", Path: "apps/staging/kustomization.yaml", Line: 4, Message: "resource missing.yaml not found"}},
				Warnings: []Warning{
					{Kind: WarnNamespace, Cluster: "staging", Stack: "gone", Object: "Namespace gone", Message: "will be deleted, with every object in it"},
					{Kind: WarnCannotPlan, Cluster: "staging", Stack: "vars", Message: "variables come from the cluster"},
					{Kind: WarnOrphan, Cluster: "staging", Stack: "apps", Object: "ConfigMap hello/x", Message: "leaves Git but stays in the cluster (the Stack has prune: false): delete it by hand if it should go"},
				}},
			{Name: "dev", Status: ClusterUnchanged, Stacks: []StackPlan{root}, Failures: []Failure{}, Warnings: []Warning{}},
			{Name: "canary", Status: ClusterUnchanged, Stacks: []StackPlan{root}, Failures: []Failure{}, Warnings: []Warning{}},
		},
	}
}

// brackets marks each styled span, to show in a golden file where colour goes.
func brackets(name string) func(string) string {
	return func(s string) string { return "<" + name + ">" + s + "</" + name + ">" }
}

func TestReportsOfEveryStateGolden(t *testing.T) {
	res := everyStateResult()
	styled := Style{Added: brackets("add"), Changed: brackets("chg"), Removed: brackets("del"),
		Warning: brackets("warn"), Failure: brackets("fail"), Heading: brackets("h")}
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report-every-state.txt", func(b *bytes.Buffer) error { return WriteText(b, res, Style{}) }},
		{"report-every-state-styled.txt", func(b *bytes.Buffer) error { return WriteText(b, res, styled) }},
		{"report-every-state.md", func(b *bytes.Buffer) error { return WriteMarkdown(b, res) }},
		{"report-every-state.json", func(b *bytes.Buffer) error { return WriteJSON(b, res) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.String())
		})
	}
}

func TestPlainTextHasNoStyle(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, everyStateResult(), Style{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("plain text holds escape sequences:\n%s", b.String())
	}
	for _, want := range []string{"prod-eu", "prod-us", "staging", "value hidden", "x staging / apps: resource missing.yaml not found"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the text report lacks %q", want)
		}
	}
	if strings.Contains(b.String(), "\ndev") {
		t.Errorf("an unchanged cluster got a section of its own:\n%s", b.String())
	}
}

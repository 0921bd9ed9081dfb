package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// fixedInstall are install options that do not depend on the build.
func fixedInstall(namespace string) install.Options {
	return install.Options{Namespace: namespace, Image: "ghcr.io/flotilla-io/flotilla:v0.1.0", Replicas: 2, Version: "v0.1.0"}
}

func TestInstallExportGolden(t *testing.T) {
	for _, tc := range []struct {
		name         string
		clusterAdmin bool
	}{
		{"install-export.golden", false},
		{"install-export-cluster-admin.golden", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &InstallOptions{Install: fixedInstall("flotilla-system"), Export: true}
			o.Install.ClusterAdmin = tc.clusterAdmin
			var out bytes.Buffer
			if err := o.Run(context.Background(), Streams{Out: &out}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, out.String())
		})
	}
}

func TestInstallExportTouchesNoCluster(t *testing.T) {
	o := &InstallOptions{Install: fixedInstall("flotilla-system"), Export: true}
	o.Kube.Kubeconfig = "/nonexistent/kubeconfig"
	if err := o.Run(context.Background(), Streams{Out: &bytes.Buffer{}}); err != nil {
		t.Fatalf("--export must not load a kubeconfig: %v", err)
	}
}

func TestInstallRefusesBadOptions(t *testing.T) {
	o := &InstallOptions{Install: fixedInstall("Not_A_Namespace"), Export: true}
	err := o.Run(context.Background(), Streams{Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "Not_A_Namespace") {
		t.Fatalf("error = %v, want one naming the namespace", err)
	}
}

// resourceVersions returns Kind/namespace/name -> resourceVersion of objs.
func resourceVersions(t *testing.T, c client.Client, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		live := apply.MetadataOf(o).Unstructured()
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(live), live); err != nil {
			t.Fatalf("reading %s: %v", apply.MetadataOf(o), err)
		}
		out[apply.MetadataOf(o).String()] = live.GetResourceVersion()
	}
	return out
}

func TestInstallTwiceChangesNothing(t *testing.T) {
	controlplane.Require(t, env)
	ns := "flotilla-install-test"
	o := &InstallOptions{Install: fixedInstall(ns), Timeout: time.Minute}
	o.Install.ClusterAdmin = true
	o.Kube.Kubeconfig = env.Kubeconfig
	var first bytes.Buffer
	if err := o.Run(context.Background(), Streams{Out: &first}); err != nil {
		t.Fatalf("first install: %v\n%s", err, first.String())
	}
	for _, want := range []string{"Namespace/" + ns + " created", "Deployment/" + ns + "/flotilla-agent created",
		"ClusterRoleBinding/flotilla-agent-cluster-admin-" + ns + " created"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first install output lacks %q:\n%s", want, first.String())
		}
	}
	objs, err := install.Objects(o.Install)
	if err != nil {
		t.Fatal(err)
	}
	before := resourceVersions(t, env.Client, objs)

	var second bytes.Buffer
	if err := o.Run(context.Background(), Streams{Out: &second}); err != nil {
		t.Fatalf("second install: %v\n%s", err, second.String())
	}
	lines := changeLines(second.String())
	if len(lines) != len(objs) {
		t.Errorf("second install printed %d lines for %d objects:\n%s", len(lines), len(objs), second.String())
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " unchanged") {
			t.Errorf("second install changed something: %q", l)
		}
	}
	if diff := cmp.Diff(before, resourceVersions(t, env.Client, objs)); diff != "" {
		t.Errorf("resourceVersions changed by the second install (-before +after):\n%s", diff)
	}
	var dep appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: install.AgentName}, &dep); err != nil {
		t.Fatal(err)
	}
	if *dep.Spec.Replicas != 2 || dep.Spec.Template.Spec.Containers[0].Image != o.Install.Image {
		t.Errorf("deployment replicas %d image %s", *dep.Spec.Replicas, dep.Spec.Template.Spec.Containers[0].Image)
	}
}

// changeLines returns the lines of output that are not progress lines.
func changeLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "◎ ") {
			lines = append(lines, l)
		}
	}
	return lines
}

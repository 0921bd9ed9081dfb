package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// TestStacksLookLikeAFleet checks the statuses of a 50 x 20 fleet: the
// shares of not Ready, behind and drifting Stacks the report states, and
// an inventory, names and dependencies that hold together.
func TestStacksLookLikeAFleet(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var total, notReady, behindHead, drifting int
	for i := range 50 {
		names := map[string]bool{}
		for j := range 20 {
			s := stack(i, j, now)
			total++
			if names[s.Name] {
				t.Fatalf("cluster %d has two Stacks %s", i, s.Name)
			}
			names[s.Name] = true
			if currentReady(s) == metav1.ConditionFalse {
				notReady++
			}
			if s.Status.LastAppliedRevision == behind {
				behindHead++
			}
			if len(s.Status.Drift) > 0 {
				drifting++
			}
			for _, d := range s.Status.Drift {
				if age := now.Sub(d.Time.Time); age <= 0 || age > time.Hour {
					t.Errorf("%s: drift record %s old, want within the last hour", s.Name, age)
				}
			}
			if n := len(s.Status.Inventory); n < 5 || n > 40 {
				t.Errorf("%s: inventory of %d objects, want 5 to 40", s.Name, n)
			}
			if s.Status.ObservedGeneration != 1 || !strings.HasPrefix(s.Status.LastAppliedRevision, "main@sha1:") {
				t.Errorf("%s: status %+v", s.Name, s.Status)
			}
		}
		for j := range 20 {
			for _, d := range stack(i, j, now).Spec.DependsOn {
				if !names[d.Name] {
					t.Errorf("cluster %d: %s depends on %s, which is not among its Stacks", i, stackName(j), d.Name)
				}
			}
		}
	}
	within := func(what string, n, per int) {
		if want := total / per; n < want*7/10 || n > want*13/10 {
			t.Errorf("%d of %d Stacks %s, want about one in %d", n, total, what, per)
		}
	}
	within("not Ready", notReady, 17)
	within("behind the head", behindHead, 7)
	within("with drift", drifting, 4)
}

func TestStackNamesPast20(t *testing.T) {
	if stackName(0) != "infrastructure" || stackName(19) != "analytics" || stackName(20) != "app-20" {
		t.Errorf("names %s, %s, %s", stackName(0), stackName(19), stackName(20))
	}
}

func TestApplyChangeFlipsReadyAndMovesTheRevision(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	s := stack(0, 0, now)
	was := currentReady(s)
	got := applyChange(s, "main@sha1:"+fakeSHA("next"), now)
	if got == was || currentReady(s) != got {
		t.Errorf("Ready went from %s to %s (reported %s), want the opposite", was, currentReady(s), got)
	}
	if s.Status.LastAppliedRevision != "main@sha1:"+fakeSHA("next") || s.Status.LastAttemptedRevision != s.Status.LastAppliedRevision {
		t.Errorf("revisions %s, %s", s.Status.LastAppliedRevision, s.Status.LastAttemptedRevision)
	}
	if back := applyChange(s, "main@sha1:"+fakeSHA("again"), now); back != was {
		t.Errorf("a second change gave Ready=%s, want %s back", back, was)
	}
	if len(s.Status.Conditions) != 1 || s.Status.Conditions[0].Type != v1alpha1.ReadyCondition {
		t.Errorf("conditions %+v, want the one Ready condition", s.Status.Conditions)
	}
}

// TestWriteKubeconfigHasAContextPerCluster merges two clusters' own
// kubeconfigs, as envtest writes them, into one.
func TestWriteKubeconfigHasAContextPerCluster(t *testing.T) {
	dir := t.TempDir()
	var clusters []*controlplane.Cluster
	for i, server := range []string{"https://127.0.0.1:40001", "https://127.0.0.1:40002"} {
		one := clientcmdapi.NewConfig()
		one.Clusters["envtest"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: []byte("ca")}
		one.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("cert"), ClientKeyData: []byte("key")}
		one.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
		one.CurrentContext = "envtest"
		path := filepath.Join(dir, controlplane.ClusterName(i)+".kubeconfig")
		if err := clientcmd.WriteToFile(*one, path); err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, &controlplane.Cluster{Name: controlplane.ClusterName(i), Kubeconfig: path})
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(path, clusters); err != nil {
		t.Fatal(err)
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.CurrentContext != "cluster-00" || len(got.Contexts) != 2 {
		t.Fatalf("current context %q, %d contexts; want cluster-00 of 2", got.CurrentContext, len(got.Contexts))
	}
	if s := got.Clusters[got.Contexts["cluster-01"].Cluster].Server; s != "https://127.0.0.1:40002" {
		t.Errorf("context cluster-01 reaches %s", s)
	}
	if a := got.AuthInfos[got.Contexts["cluster-01"].AuthInfo]; string(a.ClientKeyData) != "key" {
		t.Errorf("context cluster-01 has no client key")
	}
	if got.Contexts["cluster-00"].Namespace != namespace {
		t.Errorf("context namespace %q, want %s", got.Contexts["cluster-00"].Namespace, namespace)
	}
	if err := writeKubeconfig(path, []*controlplane.Cluster{{Name: "x", Kubeconfig: filepath.Join(dir, "missing")}}); err == nil || !strings.Contains(err.Error(), "kubeconfig of x") {
		t.Errorf("a missing kubeconfig gave %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

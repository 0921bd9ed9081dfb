package demo

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The kubeconfig the demo writes for a started cluster reaches it, with
// the demo admin's rights.
func TestStartClusterAndItsKubeconfig(t *testing.T) {
	c, err := startCluster("prod-eu-west", assets(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	if c.name != "prod-eu-west" || c.node != nil || c.client == nil {
		t.Errorf("cluster %q, node %v, client %v: want a named control plane without a node", c.name, c.node, c.client)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeKubeconfig(path, []*cluster{c}); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{CurrentContext: "prod-eu-west"}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var secrets corev1.SecretList
	if err := cl.List(context.Background(), &secrets, client.InNamespace("kube-system")); err != nil {
		t.Errorf("the demo's kubeconfig cannot list Secrets as admin: %v", err)
	}
}

func TestStartClusterNamesTheClusterOnFailure(t *testing.T) {
	empty := t.TempDir()
	c, err := startCluster("prod-us-east", empty)
	if err == nil {
		c.stop()
		t.Fatal("startCluster without binaries: want an error")
	}
	if !strings.Contains(err.Error(), "starting cluster prod-us-east") || !strings.Contains(err.Error(), empty) {
		t.Errorf("startCluster = %q, want the cluster and the assets directory named", err)
	}
}

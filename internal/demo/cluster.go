package demo

import (
	"context"
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/internal/localfleet"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/localnode"
)

// cluster is one of the demo's clusters: a real single-node cluster
// (node set) whose agent runs as a Pod, or a control plane alone (etcd and
// kube-apiserver, no nodes) whose agent runs as a process beside it.
type cluster struct {
	name   string
	config *rest.Config
	client client.Client
	// node is the real cluster; nil for a control plane alone.
	node *localnode.Cluster
	stop func() error
}

// startCluster starts etcd and kube-apiserver from assets: the local
// fleet's control plane, as the tests and benchmarks start it.
func startCluster(name, assets string) (*cluster, error) {
	cp, err := localfleet.StartControlPlane(localfleet.ControlPlaneOptions{Assets: assets, Admin: "flotilla-demo-admin"})
	if err != nil {
		return nil, fmt.Errorf("starting cluster %s: %w", name, err)
	}
	return &cluster{name: name, config: cp.Config, client: cp.Client, stop: cp.Stop}, nil
}

// startNodeCluster starts a real single-node cluster (internal/localnode): Pods
// run, and the agent is one of them.
func startNodeCluster(ctx context.Context, name, assets string) (*cluster, error) {
	n, err := localnode.Start(ctx, localnode.Options{NodeName: name, Assets: assets})
	if err != nil {
		return nil, fmt.Errorf("starting cluster %s with a real node: %w", name, err)
	}
	return &cluster{name: name, config: n.Config, client: n.Client, node: n, stop: n.Stop}, nil
}

// writeKubeconfig writes one kubeconfig with a context per cluster, named
// after it, the first one current.
func writeKubeconfig(path string, clusters []*cluster) error {
	cfg := clientcmdapi.NewConfig()
	for i, c := range clusters {
		cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: c.config.Host, CertificateAuthorityData: c.caData()}
		cfg.AuthInfos[c.name] = &clientcmdapi.AuthInfo{
			ClientCertificateData: c.config.CertData, ClientCertificate: c.config.CertFile,
			ClientKeyData: c.config.KeyData, ClientKey: c.config.KeyFile, Token: c.config.BearerToken,
		}
		cfg.Contexts[c.name] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: c.name, Namespace: "flotilla-system"}
		if i == 0 {
			cfg.CurrentContext = c.name
		}
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// caData is the cluster's CA certificate, read from its file when the
// config names one.
func (c *cluster) caData() []byte {
	if len(c.config.CAData) > 0 || c.config.CAFile == "" {
		return c.config.CAData
	}
	data, _ := os.ReadFile(c.config.CAFile)
	return data
}

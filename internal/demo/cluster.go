package demo

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/internal/agent"
)

// cluster is one local control plane: etcd and kube-apiserver, nothing
// else, and no CRDs until bootstrap installs them.
type cluster struct {
	name   string
	env    *envtest.Environment
	config *rest.Config
	client client.Client
}

// startCluster starts etcd and kube-apiserver from assets and an admin
// user for the demo.
func startCluster(name, assets string) (*cluster, error) {
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if _, err := env.Start(); err != nil {
		return nil, fmt.Errorf("starting cluster %s (kube-apiserver and etcd from %s): %w", name, assets, err)
	}
	c := &cluster{name: name, env: env}
	user, err := env.AddUser(envtest.User{Name: "flotilla-demo-admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		c.config = user.Config()
		c.client, err = client.New(c.config, client.Options{Scheme: agent.Scheme()})
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("cluster %s: %w", name, err), env.Stop())
	}
	return c, nil
}

// stop stops the control plane and removes its data.
func (c *cluster) stop() error { return c.env.Stop() }

// writeKubeconfig writes one kubeconfig with a context per cluster, named
// after it, the first one current.
func writeKubeconfig(path string, clusters []*cluster) error {
	cfg := clientcmdapi.NewConfig()
	for i, c := range clusters {
		cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: c.config.Host, CertificateAuthorityData: c.config.CAData}
		cfg.AuthInfos[c.name] = &clientcmdapi.AuthInfo{ClientCertificateData: c.config.CertData, ClientKeyData: c.config.KeyData, Token: c.config.BearerToken}
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

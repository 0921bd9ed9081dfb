// Package controlplane starts a real kube-apiserver and etcd for integration
// tests and the demo, with Flotilla's CRDs installed. The binaries come from
// `make testenv` (hack/testenv.sh): etcd from Debian, kube-apiserver built from
// the k8s.io/kubernetes module in test/controlplane/build. Nothing here fakes
// the API server.
//
// Debian's etcd 3.4.23 lacks the progress requests kube-apiserver needs for
// streaming lists and consistent reads from its watch cache: it refuses
// client-go's streaming lists at once, informers fall back to one LIST
// (TestQuietInformerSyncsWithoutStall), and LISTs at the latest resource
// version are read from etcd.
package controlplane

import (
	"errors"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/test/testground"
)

// Env is a running control plane.
type Env struct {
	env *envtest.Environment
	// Config reaches the API server as cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client with Flotilla's scheme.
	Client client.Client
	// Kubeconfig is the path of a kubeconfig file for this control plane.
	Kubeconfig string
}

// ModuleRoot returns the repository root.
func ModuleRoot() string { return testground.ModuleRoot() }

// AssetsDir finds kube-apiserver and etcd (see testground.AssetsDir).
func AssetsDir() (string, error) { return testground.AssetsDir() }

// Start starts etcd and kube-apiserver and installs the CRDs.
func Start() (*Env, error) {
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     []string{filepath.Join(ModuleRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := e.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", dir, err)
	}
	env := &Env{env: e, Config: cfg}
	if err := env.init(); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return env, nil
}

func (env *Env) init() error {
	c, err := client.New(env.Config, client.Options{Scheme: v1alpha1.NewScheme()})
	if err != nil {
		return err
	}
	env.Client = c
	user, err := env.env.AddUser(envtest.User{Name: "flotilla-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "flotilla-kubeconfig-*")
	if err != nil {
		return err
	}
	env.Kubeconfig = f.Name()
	_, err = f.Write(kubeconfig)
	return errors.Join(err, f.Close())
}

// AddUser provisions a client certificate for a user named name in groups
// and returns a config that authenticates as that user, with the rights RBAC
// gives it (none unless bound). A name of the form
// system:serviceaccount:<namespace>:<name> is how a test runs as a
// ServiceAccount: RBAC bindings to the ServiceAccount apply to it.
func (env *Env) AddUser(name string, groups ...string) (*rest.Config, error) {
	user, err := env.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("provisioning user %s: %w", name, err)
	}
	return user.Config(), nil
}

// Stop stops the control plane and removes its files.
func (env *Env) Stop() error {
	if env == nil {
		return nil
	}
	if env.Kubeconfig != "" {
		os.Remove(env.Kubeconfig)
	}
	return env.env.Stop()
}

package localfleet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// ControlPlaneOptions shape a ControlPlane.
type ControlPlaneOptions struct {
	// Assets is the directory that holds kube-apiserver and etcd
	// (hack/testenv.sh prints it). Required.
	Assets string
	// CRDDirectories are installed once the API server answers; a missing
	// directory is an error. Empty installs none (the demo installs
	// Flotilla with `flotilla install` instead).
	CRDDirectories []string
	// Admin names the cluster-admin user (group system:masters) whose
	// kubeconfig is written to ControlPlane.Kubeconfig (default
	// flotilla-admin).
	Admin string
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Config reaches the API server as cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client with Flotilla's scheme.
	Client client.Client
	// Kubeconfig is the path of a kubeconfig file for the admin user; Stop
	// removes it.
	Kubeconfig string
	env        *envtest.Environment
}

// StartControlPlane starts etcd and kube-apiserver from o.Assets, installs
// o.CRDDirectories, and writes the admin's kubeconfig. On error nothing is
// left running.
func StartControlPlane(o ControlPlaneOptions) (*ControlPlane, error) {
	if o.Assets == "" {
		return nil, errors.New("starting a control plane: no directory with kube-apiserver and etcd given")
	}
	if o.Admin == "" {
		o.Admin = "flotilla-admin"
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: o.Assets,
		CRDDirectoryPaths:     o.CRDDirectories,
		ErrorIfCRDPathMissing: len(o.CRDDirectories) > 0,
	}
	// envtest prefers $KUBEBUILDER_ASSETS (and $TEST_ASSET_*) to
	// BinaryAssetsDirectory; the paths set here make o.Assets win.
	env.ControlPlane.GetAPIServer().Path = filepath.Join(o.Assets, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(o.Assets, "etcd")}
	env.ControlPlane.KubectlPath = filepath.Join(o.Assets, "kubectl")
	cfg, err := env.Start()
	if err != nil {
		// envtest leaves etcd and kube-apiserver running when only the
		// CRDs failed to install.
		return nil, errors.Join(fmt.Errorf("starting kube-apiserver and etcd from %s: %w", o.Assets, err), env.Stop())
	}
	cp := &ControlPlane{Config: cfg, env: env}
	if err := cp.init(o.Admin); err != nil {
		return nil, errors.Join(err, cp.Stop())
	}
	return cp, nil
}

func (cp *ControlPlane) init(admin string) error {
	c, err := client.New(cp.Config, client.Options{Scheme: v1alpha1.NewScheme()})
	if err != nil {
		return fmt.Errorf("building a client for %s: %w", cp.Config.Host, err)
	}
	cp.Client = c
	user, err := cp.env.AddUser(envtest.User{Name: admin, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("provisioning the admin user %s: %w", admin, err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("writing the kubeconfig of %s: %w", admin, err)
	}
	f, err := os.CreateTemp("", "flotilla-kubeconfig-*")
	if err != nil {
		return err
	}
	cp.Kubeconfig = f.Name()
	_, err = f.Write(kubeconfig)
	return errors.Join(err, f.Close())
}

// AddUser provisions a client certificate for a user named name in groups
// and returns a config that authenticates as that user, with the rights RBAC
// gives it (none unless bound). A name of the form
// system:serviceaccount:<namespace>:<name> is how a caller runs as a
// ServiceAccount: RBAC bindings to the ServiceAccount apply to it.
func (cp *ControlPlane) AddUser(name string, groups ...string) (*rest.Config, error) {
	user, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("provisioning user %s: %w", name, err)
	}
	return user.Config(), nil
}

// Stop stops the control plane and removes its files. A nil ControlPlane
// is stopped already.
func (cp *ControlPlane) Stop() error {
	if cp == nil {
		return nil
	}
	if cp.Kubeconfig != "" {
		os.Remove(cp.Kubeconfig)
	}
	return cp.env.Stop()
}

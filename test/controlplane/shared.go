package controlplane

import (
	"context"
	"errors"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// SharedOptions size a Shared control plane.
type SharedOptions struct {
	// Clusters is the number of kube-apiservers, named cluster-00,
	// cluster-01...
	Clusters int
	// Parallel is how many kube-apiservers start at once (default 2).
	Parallel int
	// StartTimeout bounds the start of each process (default 2 minutes:
	// several kube-apiservers starting on few CPUs are slow).
	StartTimeout time.Duration
	// BeforeStart, when set, runs before each kube-apiserver starts; an
	// error stops the start (a benchmark uses it to refuse to start a
	// cluster the memory left cannot hold).
	BeforeStart func(i int) error
}

// Shared is one etcd holding several clusters: a kube-apiserver per
// cluster, each storing its objects under an etcd prefix of its own, so the
// clusters share nothing but the etcd process (not an object, CRD or
// namespace). It is the fleet of the fleet benchmark at the memory of one
// etcd instead of one per cluster.
type Shared struct {
	// Clusters are the running clusters, in order.
	Clusters []*Cluster
	etcd     *envtest.Etcd
	dir      string
}

// Cluster is one kube-apiserver of a Shared control plane, with
// Flotilla's CRDs installed.
type Cluster struct {
	// Name is cluster-NN; the etcd prefix is /Name.
	Name string
	// Config reaches the API server as cluster admin (QPS 1000, burst 2000,
	// as envtest's).
	Config *rest.Config
	// Client is a controller-runtime client with Flotilla's scheme.
	Client client.Client
	// Kubeconfig is the path of a kubeconfig file for this cluster.
	Kubeconfig string
	api        *envtest.APIServer
}

// ClusterName is the name of the i-th cluster of a Shared control plane.
func ClusterName(i int) string { return fmt.Sprintf("cluster-%02d", i) }

// EtcdPrefix is the etcd prefix the named cluster stores its objects under.
func EtcdPrefix(name string) string { return "/" + name }

// StartShared starts one etcd and o.Clusters kube-apiservers on it, o.Parallel
// at a time, and installs the CRDs in each. On error, or when ctx ends,
// everything it started is stopped.
func StartShared(ctx context.Context, o SharedOptions) (_ *Shared, err error) {
	o = o.withDefaults()
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	s := &Shared{Clusters: make([]*Cluster, o.Clusters)}
	if s.dir, err = os.MkdirTemp("", "flotilla-shared-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	s.etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd"), StartTimeout: o.StartTimeout, StopTimeout: time.Minute}
	if err := s.etcd.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd from %s: %w", assets, err)
	}
	return s, s.startClusters(ctx, o, assets)
}

func (o SharedOptions) withDefaults() SharedOptions {
	if o.Parallel < 1 {
		o.Parallel = 2
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 2 * time.Minute
	}
	return o
}

// startClusters starts the kube-apiservers, o.Parallel at a time, in
// order of their index so BeforeStart sees the memory of those before.
func (s *Shared) startClusters(ctx context.Context, o SharedOptions, assets string) error {
	sem := make(chan struct{}, o.Parallel)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i := range s.Clusters {
		sem <- struct{}{}
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		err := ctx.Err()
		if err == nil && !failed && o.BeforeStart != nil {
			err = o.BeforeStart(i)
		}
		if err != nil || failed {
			record(err)
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := s.startCluster(ctx, ClusterName(i), assets, o.StartTimeout)
			mu.Lock()
			s.Clusters[i] = c
			mu.Unlock()
			record(err)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startCluster starts one kube-apiserver on the shared etcd, waits until
// it serves the default namespace and installs the CRDs.
func (s *Shared) startCluster(ctx context.Context, name, assets string, timeout time.Duration) (*Cluster, error) {
	api := &envtest.APIServer{
		Path:         filepath.Join(assets, "kube-apiserver"),
		EtcdURL:      s.etcd.URL,
		StartTimeout: timeout,
		StopTimeout:  time.Minute,
	}
	api.Configure().Set("etcd-prefix", EtcdPrefix(name))
	if err := api.Start(); err != nil {
		return nil, fmt.Errorf("starting the kube-apiserver of %s: %w", name, err)
	}
	c := &Cluster{Name: name, api: api}
	if err := c.connect(ctx, s.dir); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// connect provisions an admin user, writes its kubeconfig, waits for the
// default namespace as envtest does, and installs the CRDs.
func (c *Cluster) connect(ctx context.Context, dir string) error {
	plane := &envtest.ControlPlane{APIServer: c.api}
	user, err := plane.AddUser(envtest.User{Name: "flotilla-admin", Groups: []string{"system:masters"}}, &rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return fmt.Errorf("provisioning an admin user: %w", err)
	}
	c.Config = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(dir, c.Name+".kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig, 0o600); err != nil {
		return err
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: v1alpha1.NewScheme()}); err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		return c.Client.Get(ctx, client.ObjectKey{Name: "default"}, &corev1.Namespace{}) == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the default namespace: %w", err)
	}
	_, err = envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(ModuleRoot(), "config", "crd", "bases")},
		ErrorIfPathMissing: true,
	})
	if err != nil {
		return fmt.Errorf("installing the CRDs: %w", err)
	}
	return nil
}

// Stop stops every kube-apiserver (at once), then etcd, and removes their
// files.
func (s *Shared) Stop() error {
	if s == nil {
		return nil
	}
	errs := make([]error, len(s.Clusters))
	var wg sync.WaitGroup
	for i, c := range s.Clusters {
		if c == nil {
			continue
		}
		wg.Go(func() {
			if err := c.api.Stop(); err != nil {
				errs[i] = fmt.Errorf("stopping the kube-apiserver of %s: %w", c.Name, err)
			}
		})
	}
	wg.Wait()
	if s.etcd != nil {
		if err := s.etcd.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping etcd: %w", err))
		}
	}
	return errors.Join(append(errs, os.RemoveAll(s.dir))...)
}

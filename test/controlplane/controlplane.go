// Package controlplane starts a real kube-apiserver and etcd for integration
// tests and benchmarks, with Flotilla's CRDs installed: the control plane of
// internal/localfleet, which the demo starts too, found where the tests'
// binaries are. The binaries come from
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
	"path/filepath"

	"github.com/flotilla-io/flotilla/internal/localfleet"
	"github.com/flotilla-io/flotilla/internal/testground"
)

// Env is a running control plane: internal/localfleet's, which the demo
// and the benchmarks start too.
type Env = localfleet.ControlPlane

// ModuleRoot returns the repository root.
func ModuleRoot() string { return testground.ModuleRoot() }

// AssetsDir finds kube-apiserver and etcd (see testground.AssetsDir).
func AssetsDir() (string, error) { return testground.AssetsDir() }

// Start starts etcd and kube-apiserver and installs Flotilla's CRDs.
func Start() (*Env, error) {
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	return localfleet.StartControlPlane(localfleet.ControlPlaneOptions{
		Assets:         dir,
		CRDDirectories: []string{filepath.Join(ModuleRoot(), "config", "crd", "bases")},
		Admin:          "flotilla-test-admin",
	})
}

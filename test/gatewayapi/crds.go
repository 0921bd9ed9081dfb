package gatewayapi

import (
	"fmt"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/internal/testground"
)

// CRDDir is the directory of the Gateway API CRDs: the standard channel of
// sigs.k8s.io/gateway-api v1.6.3 (config/crd/standard of its module,
// without the ValidatingAdmissionPolicy that guards upgrades).
func CRDDir() string {
	return filepath.Join(testground.ModuleRoot(), "test", "gatewayapi", "crds")
}

// InstallCRDs installs the Gateway API CRDs into the API server cfg
// reaches and waits until it serves them.
func InstallCRDs(cfg *rest.Config) error {
	opts := envtest.CRDInstallOptions{Paths: []string{CRDDir()}, ErrorIfPathMissing: true}
	if _, err := envtest.InstallCRDs(cfg, opts); err != nil {
		return fmt.Errorf("installing the Gateway API CRDs of %s: %w", CRDDir(), err)
	}
	return nil
}

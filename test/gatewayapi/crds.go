package gatewayapi

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"path"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// crdFS holds the standard channel CRDs of sigs.k8s.io/gateway-api v1.6.3
// (config/crd/standard of its module, without the ValidatingAdmissionPolicy
// that guards upgrades).
//
//go:embed crds/*.yaml
var crdFS embed.FS

// CRDs returns the Gateway API CRDs of the standard channel.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	entries, err := crdFS.ReadDir("crds")
	if err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, e := range entries {
		name := path.Join("crds", e.Name())
		raw, err := crdFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		crds, err := decodeCRDs(raw)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", name, err)
		}
		out = append(out, crds...)
	}
	return out, nil
}

// decodeCRDs reads the CRDs of a multi-document YAML file.
func decodeCRDs(raw []byte) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*apiextensionsv1.CustomResourceDefinition
	for {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		err := dec.Decode(crd)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if crd.Kind == "CustomResourceDefinition" {
			out = append(out, crd)
		}
	}
}

// InstallCRDs installs the Gateway API CRDs into the API server cfg
// reaches and waits until it serves them.
func InstallCRDs(cfg *rest.Config) error {
	crds, err := CRDs()
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: crds}); err != nil {
		return fmt.Errorf("installing the Gateway API CRDs: %w", err)
	}
	return nil
}

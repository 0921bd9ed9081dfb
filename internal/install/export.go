package install

import (
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Write prints objs as a multi-document YAML stream, in their order.
func Write(w io.Writer, objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "---\n"); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

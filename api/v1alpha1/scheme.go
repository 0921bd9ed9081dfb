package v1alpha1

import (
	"errors"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// NewScheme returns a scheme with the Kubernetes kinds client-go knows and
// every kind of this package: what the agent, the CLI, bootstrap, the
// dashboard and the tests read and write objects with.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), AddToScheme(s)); err != nil {
		panic(err) // static registrations only; a failure is a programming error
	}
	return s
}

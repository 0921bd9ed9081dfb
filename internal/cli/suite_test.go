package cli

import (
	"os"
	"testing"

	"github.com/flotilla-io/flotilla/test/controlplane"
)

// env is the control plane the integration tests of the package share; nil
// under -short, where only the unit tests run.
var env *controlplane.Env

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env))
}

package controlplane

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/flotilla-io/flotilla/internal/localfleet"
)

// RunTests is a TestMain body: it starts one control plane for the
// package's tests (none with -short), runs the optional setup functions
// (each returns its teardown), runs the tests and stops everything.
func RunTests(m *testing.M, env **Env, setup ...func(*Env) (func(), error)) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need the control plane:", err)
		return 1
	}
	*env = e
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	for _, s := range setup {
		teardown, err := s(e)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test setup failed:", err)
			return 1
		}
		defer teardown()
	}
	return m.Run()
}

// Require skips an integration test under -short (no control plane is
// started then) and fails it when the control plane is missing otherwise.
func Require(t testing.TB, env *Env) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the testenv control plane, not started with -short")
	}
	if env == nil {
		t.Fatal("control plane not started: call controlplane.RunTests from TestMain")
	}
}

// StartBare starts etcd and kube-apiserver without CRDs for one test (the
// built-in kinds are enough where a Flotilla object is only ever an owner
// reference) and stops them when t ends. It skips t under -short.
func StartBare(t testing.TB) *Env {
	t.Helper()
	return startForTest(t, func() (*Env, error) {
		dir, err := AssetsDir()
		if err != nil {
			return nil, err
		}
		return localfleet.StartControlPlane(localfleet.ControlPlaneOptions{Assets: dir, Admin: "flotilla-test-admin"})
	})
}

// StartForTest starts a control plane of its own, with Flotilla's CRDs, for
// one test (a second cluster, or one the test may break) and stops it when
// t ends. It skips t under -short.
func StartForTest(t testing.TB) *Env {
	t.Helper()
	return startForTest(t, Start)
}

func startForTest(t testing.TB, start func() (*Env, error)) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts etcd and kube-apiserver (run `make test`)")
	}
	env, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return env
}

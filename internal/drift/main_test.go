package drift_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/agent"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var (
	env *controlplane.Env
	// controllers run as the agent of a least-privilege install.
	controllers *agent.Controllers
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env, startLeastPrivilegeAgent))
}

// agentUser is the user name of the agent's ServiceAccount as `flotilla
// install` creates it.
var agentUser = "system:serviceaccount:" + install.DefaultNamespace + ":" + install.AgentName

// startLeastPrivilegeAgent installs Flotilla as `flotilla install` does
// without --cluster-admin and runs the controllers in-process as the
// agent's ServiceAccount, with only the rights that install gave it.
func startLeastPrivilegeAgent(e *controlplane.Env) (func(), error) {
	if err := installLeastPrivilege(e); err != nil {
		return nil, err
	}
	cfg, err := e.AddUser(agentUser, "system:serviceaccounts", "system:serviceaccounts:"+install.DefaultNamespace)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flotilla-drift-test-")
	if err != nil {
		return nil, err
	}
	opts := agent.DefaultOptions()
	opts.DataDir = dir
	opts.AllowFileURLs = true // the repositories are served from file:// URLs
	var stop func()
	if controllers, stop, err = controlplane.RunControllers(cfg, opts, prometheus.NewRegistry()); err != nil {
		return nil, err
	}
	return func() { stop(); os.RemoveAll(dir) }, nil
}

// installLeastPrivilege applies what `flotilla install` applies, but the
// Deployment: the controllers run in this process instead.
func installLeastPrivilege(e *controlplane.Env) error {
	objs, err := install.Objects(install.DefaultOptions())
	if err != nil {
		return err
	}
	var keep []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			keep = append(keep, o)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := install.Apply(ctx, e.Client, keep, nil); err != nil {
		return fmt.Errorf("installing Flotilla: %w", err)
	}
	return nil
}

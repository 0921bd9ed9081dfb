package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/testground"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// externalSecrets is a ClusterSecretStore of the operator's fake provider
// (values held in the store's spec, no outside service) and an
// ExternalSecret reading one of them; %s is the value.
const externalSecrets = `apiVersion: v1
kind: Namespace
metadata:
  name: external-e2e
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: fake
spec:
  provider:
    fake:
      data:
        - key: /db/password
          value: %s
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: db
  namespace: external-e2e
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: fake
  target:
    name: db
  data:
    - secretKey: password
      remoteRef:
        key: /db/password
`

// missingKey is an ExternalSecret reading a key the store lacks.
const missingKey = `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: missing
  namespace: external-e2e
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: fake
  target:
    name: missing
  data:
    - secretKey: password
      remoteRef:
        key: /not/in/the/store
`

// TestExternalSecretsWithTheRealOperator runs the real External Secrets
// operator v0.16.2 (built from its Go module by hack/testenv.sh) against a
// real API server with its own CRDs: a Stack with wait: true applies a
// ClusterSecretStore of the fake provider and an ExternalSecret, and turns
// Ready only once the operator made the Secret (the ExternalSecret's Ready
// condition); an ExternalSecret of a key the store lacks fails the wait
// with the operator's Ready=False message.
func TestExternalSecretsWithTheRealOperator(t *testing.T) {
	controlplane.Require(t, env)
	bin, crds := externalSecretsAssets(t)
	cp := startControlPlane(t)
	if _, err := envtest.InstallCRDs(cp.Config, envtest.CRDInstallOptions{Paths: []string{crds}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing the External Secrets CRDs: %v", err)
	}
	startExternalSecretsOperator(t, cp, bin)

	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	value := "external-e2e-value-" + randomHex(t)
	wd.WriteFile(t, "external/secrets.yaml", fmt.Sprintf(externalSecrets, value))
	wd.WriteFile(t, "external/kustomization.yaml", "resources:\n  - secrets.yaml\n")
	revision := "main@sha1:" + wd.Commit(t, "an ExternalSecret")
	wd.Push(t, "main")
	createSource(t, cp.Client, root.FileURL("fleet"))
	startAgent(t, "--kubeconfig", cp.Kubeconfig)
	createStack(t, cp.Client, "external", "./external", func(s *v1alpha1.StackSpec) { s.Wait = true })
	key := client.ObjectKey{Namespace: "flotilla-system", Name: "external"}
	waitStackApplied(t, cp.Client, key, revision)
	if got := secretData(t, cp.Client, "external-e2e", "db", "password"); got != value {
		t.Errorf("Secret external-e2e/db holds %d bytes, want the %d bytes of the store", len(got), len(value))
	}
	assertCondition(t, cp.Client, "external-secrets.io/v1", "ExternalSecret", "external-e2e", "db", "Ready", "True")

	wd.WriteFile(t, "external/missing.yaml", missingKey)
	revision = "main@sha1:" + pushFile(t, wd, cp.Client, "external/kustomization.yaml", "resources:\n  - secrets.yaml\n  - missing.yaml\n", "an ExternalSecret of a missing key")
	cond := waitStackFailed(t, cp.Client, key, revision)
	t.Logf("the Stack's Ready message: %s", cond.Message)
	if cond.Reason != v1alpha1.ReasonHealthCheckFailed || !strings.Contains(cond.Message, "ExternalSecret/external-e2e/missing") || !strings.Contains(cond.Message, "Ready is False") {
		t.Errorf("Ready = %s %s: %q, want %s naming ExternalSecret/external-e2e/missing and its Ready condition", cond.Status, cond.Reason, cond.Message, v1alpha1.ReasonHealthCheckFailed)
	}
	assertNoSecrets(t, "the Ready condition message", cond.Message, "", value)
}

// externalSecretsAssets returns the operator and its CRDs, as
// hack/testenv.sh leaves them.
func externalSecretsAssets(t *testing.T) (bin, crds string) {
	t.Helper()
	dir, err := testground.AssetsDir()
	if err != nil {
		t.Fatalf("the test ground is not prepared: %v", err)
	}
	bin, crds = filepath.Join(dir, "external-secrets"), filepath.Join(dir, "external-secrets-crds")
	for _, p := range []string{bin, crds} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s not found: run `make testenv`, which builds the operator from test/externalsecrets", p)
		}
	}
	return bin, crds
}

// startExternalSecretsOperator runs the operator as a host process with the
// test ground's admin kubeconfig.
func startExternalSecretsOperator(t *testing.T, cp *controlplane.Env, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "--metrics-addr", freeAddr(t), "--enable-cluster-external-secret-reconciler=false", "--enable-push-secret-reconciler=false", "--enable-cluster-push-secret-reconciler=false")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.Kubeconfig)
	startProcess(t, "external-secrets", cmd)
}

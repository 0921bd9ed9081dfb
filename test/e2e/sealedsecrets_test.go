package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/testground"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// The Sealed Secrets controller as examples/fleet installs it.
const (
	sealedNamespace  = "kube-system"
	sealedController = "sealed-secrets-controller"
	sealedStackBase  = "./infrastructure/base/sealed-secrets"
	sealedKeyLabel   = "sealedsecrets.bitnami.com/sealed-secrets-key"
	sealedAPIVersion = "bitnami.com/v1alpha1"
)

// TestSealedSecretsWithTheRealController runs the real Sealed Secrets
// controller and kubeseal (built from their Go module by hack/testenv.sh)
// against a real API server, with the example fleet's CRD and RBAC applied
// by a Stack: a Secret sealed by kubeseal against the certificate the
// controller serves is applied by a Stack with wait: true, which turns
// Ready only once the controller unsealed it (its Synced condition); a
// SealedSecret sealed for another key fails the wait at once with the
// controller's message; and the example fleet's own SealedSecret, sealed
// for the demo-only key, is unsealed and counted by a Stack's healthChecks.
func TestSealedSecretsWithTheRealController(t *testing.T) {
	controlplane.Require(t, env)
	controllerBin, kubesealBin := sealedSecretsBinaries(t)
	cp := startControlPlane(t)
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	wd := gitserver.NewWorkdir(t, root.Path("fleet"))
	copyTree(t, filepath.Join(controlplane.ModuleRoot(), "examples", "fleet"), wd)
	revision := "main@sha1:" + wd.Commit(t, "fleet")
	wd.Push(t, "main")
	createSource(t, cp.Client, root.FileURL("fleet"))
	startAgent(t, "--kubeconfig", cp.Kubeconfig)

	// 1. The fleet's Sealed Secrets base (CRD, ServiceAccount, RBAC) by a Stack.
	createStack(t, cp.Client, "sealed-secrets", sealedStackBase, func(s *v1alpha1.StackSpec) {
		s.HealthChecks = []v1alpha1.ObjectReference{{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "sealedsecrets.bitnami.com"}}
	})
	waitStackApplied(t, cp.Client, client.ObjectKey{Namespace: "flotilla-system", Name: "sealed-secrets"}, revision)

	// 2. The real controller, as that ServiceAccount, holding the demo-only key.
	giveDemoSealingKey(t, cp.Client)
	certURL := startSealedSecretsController(t, cp, controllerBin)

	// 3. kubeseal seals a Secret against the certificate the controller serves.
	ns := "sealed-e2e"
	value := "sealed-e2e-value-" + randomHex(t)
	sealed := kubeseal(t, kubesealBin, certURL, cp.Kubeconfig, ns, "db", value)
	if strings.Contains(sealed, value) {
		t.Fatalf("kubeseal's output holds the value in clear:\n%s", sealed)
	}
	wd.WriteFile(t, "sealed/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	wd.WriteFile(t, "sealed/db.yaml", sealed)
	revision = "main@sha1:" + pushFile(t, wd, cp.Client, "sealed/kustomization.yaml", "resources:\n  - namespace.yaml\n  - db.yaml\n", "a SealedSecret")
	createStack(t, cp.Client, "sealed", "./sealed", func(s *v1alpha1.StackSpec) { s.Wait = true })
	waitStackApplied(t, cp.Client, client.ObjectKey{Namespace: "flotilla-system", Name: "sealed"}, revision)
	if got := secretData(t, cp.Client, ns, "db", "password"); got != value {
		t.Errorf("Secret %s/db holds %d bytes, want the %d bytes sealed", ns, len(got), len(value))
	}
	assertCondition(t, cp.Client, sealedAPIVersion, "SealedSecret", ns, "db", "Synced", "True")

	// 4. A SealedSecret sealed for another key: the controller says Synced
	// False, and the Stack's wait fails with its message, long before the
	// Stack's timeout.
	wd.WriteFile(t, "sealed/other-key.yaml", kubeseal(t, kubesealBin, otherCertFile(t), cp.Kubeconfig, ns, "other-key", value))
	revision = "main@sha1:" + pushFile(t, wd, cp.Client, "sealed/kustomization.yaml", "resources:\n  - namespace.yaml\n  - db.yaml\n  - other-key.yaml\n", "a SealedSecret for another key")
	cond := waitStackFailed(t, cp.Client, client.ObjectKey{Namespace: "flotilla-system", Name: "sealed"}, revision)
	if cond.Reason != v1alpha1.ReasonHealthCheckFailed || !strings.Contains(cond.Message, "SealedSecret/"+ns+"/other-key") || !strings.Contains(cond.Message, "Synced is False") {
		t.Errorf("Ready = %s %s: %q, want %s naming SealedSecret/%s/other-key and its Synced condition", cond.Status, cond.Reason, cond.Message, v1alpha1.ReasonHealthCheckFailed, ns)
	}
	t.Logf("the Stack's Ready message: %s", cond.Message)
	assertNoSecrets(t, "the Ready condition message", cond.Message, "", value)

	// 5. The example fleet's SealedSecret (apps/base/hello), sealed for the
	// demo-only key, counted by a Stack's healthChecks.
	createStack(t, cp.Client, "hello", "./apps/overlays/staging", func(s *v1alpha1.StackSpec) {
		s.PostBuild = &v1alpha1.PostBuild{Substitute: map[string]string{"CLUSTER_NAME": "staging", "CLUSTER_REGION": "local"}}
		s.HealthChecks = []v1alpha1.ObjectReference{{APIVersion: "bitnami.com/v1alpha1", Kind: "SealedSecret", Name: "hello-api-token", Namespace: "hello"}}
	})
	waitStackApplied(t, cp.Client, client.ObjectKey{Namespace: "flotilla-system", Name: "hello"}, revision)
	assertCondition(t, cp.Client, sealedAPIVersion, "SealedSecret", "hello", "hello-api-token", "Synced", "True")
	if got := secretData(t, cp.Client, "hello", "hello-api-token", "token"); got != exampleSealedToken {
		t.Errorf("Secret hello/hello-api-token holds %q, want the example fleet's demo value", got)
	}
}

// exampleSealedToken is the value sealed in examples/fleet/apps/base/hello/sealedsecret.yaml.
const exampleSealedToken = "demo-api-token-v1"

// sealedSecretsBinaries returns the controller and kubeseal built by
// hack/testenv.sh.
func sealedSecretsBinaries(t *testing.T) (controller, kubeseal string) {
	t.Helper()
	dir, err := testground.AssetsDir()
	if err != nil {
		t.Fatalf("the test ground is not prepared: %v", err)
	}
	for _, name := range []string{"sealed-secrets-controller", "kubeseal"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s not found in %s: run `make testenv`, which builds it from test/sealedsecrets", name, dir)
		}
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare not found (util-linux): the controller runs in a mount namespace of its own to read its ServiceAccount token where it expects it")
	}
	return filepath.Join(dir, "sealed-secrets-controller"), filepath.Join(dir, "kubeseal")
}

// createSource creates the namespace flotilla-system and the GitRepository
// fleet in it.
func createSource(t *testing.T, c client.Client, url string) {
	t.Helper()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flotilla-system"}},
		&v1alpha1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "fleet"},
			Spec:       v1alpha1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}},
		},
	} {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// createStack creates a Stack of the fleet source in flotilla-system.
func createStack(t *testing.T, c client.Client, name, path string, edit func(*v1alpha1.StackSpec)) {
	t.Helper()
	s := &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:      path, Interval: metav1.Duration{Duration: time.Minute}, Prune: true,
			Timeout: &metav1.Duration{Duration: 5 * time.Minute},
		},
	}
	edit(&s.Spec)
	if err := c.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Stack %s: %v", name, err)
	}
}

// pushFile writes, commits and pushes one file, asks the fleet
// GitRepository to fetch now, and returns the commit.
func pushFile(t *testing.T, wd *gitserver.Workdir, c client.Client, path, content, message string) string {
	t.Helper()
	wd.WriteFile(t, path, content)
	sha := wd.Commit(t, message)
	wd.Push(t, "main")
	requestFetch(t, c)
	return sha
}

// requestFetch asks the fleet GitRepository to fetch now, as a webhook would.
func requestFetch(t *testing.T, c client.Client) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	repo := &v1alpha1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "fleet"}}
	if err := c.Patch(context.Background(), repo, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		t.Fatalf("requesting a fetch of GitRepository fleet: %v", err)
	}
}

// waitStackFailed waits until the Stack is Ready=False having tried revision.
func waitStackFailed(t *testing.T, c client.Client, key client.ObjectKey, revision string) metav1.Condition {
	t.Helper()
	var s v1alpha1.Stack
	var ready *metav1.Condition
	eventually(t, fmt.Sprintf("Stack %s Ready=False at %s", key, revision), func() (bool, string) {
		if err := c.Get(context.Background(), key, &s); err != nil {
			return false, err.Error()
		}
		ready = meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ReadyCondition)
		done := ready != nil && ready.Status == metav1.ConditionFalse && s.Status.LastAttemptedRevision == revision
		return done, fmt.Sprintf("ready=%+v attempted=%s", ready, s.Status.LastAttemptedRevision)
	})
	return *ready
}

// giveDemoSealingKey creates the sealing key Secret of the demo-only key
// pair, labelled active, as a user bringing their own key does.
func giveDemoSealingKey(t *testing.T, c client.Client) {
	t.Helper()
	dir := filepath.Join(controlplane.ModuleRoot(), "internal", "demo")
	crt, err := os.ReadFile(filepath.Join(dir, "demo-only-sealing.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "demo-only-sealing.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: sealedNamespace, Name: "sealed-secrets-demo-only-key", Labels: map[string]string{sealedKeyLabel: "active"}},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
	}
	if err := c.Create(context.Background(), s); err != nil {
		t.Fatalf("creating the sealing key Secret: %v", err)
	}
}

// startSealedSecretsController runs the controller as a host process
// against cp, as its ServiceAccount, and returns the URL of the
// certificate it serves once it serves it. The controller only reads
// in-cluster configuration, from fixed paths: it runs in a mount namespace
// of its own where a tmpfs over /run holds its token, so the host's
// /run is untouched.
func startSealedSecretsController(t *testing.T, cp *controlplane.Env, bin string) string {
	t.Helper()
	saDir := serviceAccountFiles(t, cp)
	host, err := url.Parse(cp.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	const script = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$1"/* /run/secrets/kubernetes.io/serviceaccount/
shift
exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", saDir,
		bin, "--listen-addr", addr, "--listen-metrics-addr", metricsAddr, "--key-renew-period", "0")
	cmd.Env = append(os.Environ(), "KUBERNETES_SERVICE_HOST="+host.Hostname(), "KUBERNETES_SERVICE_PORT="+host.Port(), "POD_NAMESPACE="+sealedNamespace)
	log := startProcess(t, "sealed-secrets-controller", cmd)
	certURL := "http://" + addr + "/v1/cert.pem"
	eventually(t, "the controller serving its certificate at "+certURL, func() (bool, string) {
		code, body, err := httpGet(certURL)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK && strings.Contains(body, "BEGIN CERTIFICATE"), fmt.Sprintf("%d; controller output: %s", code, log.String())
	})
	return certURL
}

// startProcess starts cmd (name is for messages) with its output
// captured, kills it at cleanup, and logs its output when the test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) *syncBuffer {
	t.Helper()
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, log.String())
		}
	})
	return log
}

// serviceAccountFiles writes what a Pod of the controller's ServiceAccount
// mounts: a token from the TokenRequest API, the cluster CA and the namespace.
func serviceAccountFiles(t *testing.T, cp *controlplane.Env) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(sealedNamespace).CreateToken(context.Background(), sealedController,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for ServiceAccount %s/%s: %v", sealedNamespace, sealedController, err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": cp.Config.CAData, "namespace": []byte(sealedNamespace)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// kubeseal seals a Secret holding value under "password" with the real
// kubeseal command, for the certificate at cert (a URL or a file).
func kubeseal(t *testing.T, bin, cert, kubeconfig, ns, name, value string) string {
	t.Helper()
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\nstringData:\n  password: %s\n", name, ns, value)
	cmd := exec.Command(bin, "--cert", cert, "--format", "yaml")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdin = strings.NewReader(secret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubeseal --cert %s: %v\n%s", cert, err, stderr.String())
	}
	return string(out)
}

// otherCertFile writes a certificate of a fresh key the controller does not hold.
func otherCertFile(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sealed-secret"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other.crt")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func secretData(t *testing.T, c client.Client, ns, name, key string) string {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("reading Secret %s/%s: %v", ns, name, err)
	}
	return string(s.Data[key])
}

// assertCondition checks the condition of type condType that a controller
// wrote on an object.
func assertCondition(t *testing.T, c client.Client, apiVersion, kind, ns, name, condType, want string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("reading %s %s/%s: %v", kind, ns, name, err)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, _ := c.(map[string]any); m["type"] == condType {
			if m["status"] != want {
				t.Errorf("%s %s/%s: %s is %v (%v), want %s", kind, ns, name, condType, m["status"], m["message"], want)
			}
			return
		}
	}
	t.Errorf("%s %s/%s has no %s condition: %v", kind, ns, name, condType, u.Object["status"])
}

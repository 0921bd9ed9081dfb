package localfleet

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/testground"
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime; these tests read errors.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// assets is the envtest binaries' directory; tests that start a control
// plane need it, and skip under -short, which runs unit tests only.
func assets(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test starts etcd and kube-apiserver (run `make test`)")
	}
	dir, err := testground.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// children lists this process's child processes by command name.
func children(t *testing.T) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var names []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // it exited meanwhile
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		if f := strings.Fields(s[end+1:]); len(f) > 1 && f[1] == self {
			names = append(names, s[open+1:end])
		}
	}
	return names
}

// controlPlaneChildren are the etcd and kube-apiserver processes this
// process started.
func controlPlaneChildren(t *testing.T) []string {
	var out []string
	for _, n := range children(t) {
		if n == "etcd" || strings.HasPrefix(n, "kube-apiserver") {
			out = append(out, n)
		}
	}
	return out
}

func TestStartControlPlaneServesTheAdminAndStops(t *testing.T) {
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: assets(t), Admin: "test-admin"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cp.Stop()
		}
	}()
	ctx := context.Background()
	// The client writes with Flotilla's scheme.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "written-by-the-client"}}
	if err := cp.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace with ControlPlane.Client: %v", err)
	}
	if _, err := cp.Client.Scheme().New(v1alpha1.GroupVersion.WithKind("Stack")); err != nil {
		t.Errorf("the client's scheme lacks Flotilla's kinds: %v", err)
	}
	// The kubeconfig is the admin's, and reads what the client wrote.
	info, err := os.Stat(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("kubeconfig %s has mode %v: others can read the admin's key", cp.Kubeconfig, info.Mode().Perm())
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Namespace
	if err := admin.Get(ctx, client.ObjectKeyFromObject(ns), &got); err != nil {
		t.Errorf("the admin's kubeconfig cannot read namespace %s: %v", ns.Name, err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := os.Stat(cp.Kubeconfig); !os.IsNotExist(err) {
		t.Errorf("Stop left the kubeconfig %s: %v", cp.Kubeconfig, err)
	}
	if left := controlPlaneChildren(t); len(left) > 0 {
		t.Errorf("Stop left %v running", left)
	}
}

func TestStartControlPlaneDefaultsTheAdmin(t *testing.T) {
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: assets(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(context.Background(), review); err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo; got.Username != "flotilla-admin" || !slices.Contains(got.Groups, "system:masters") {
		t.Errorf("the kubeconfig authenticates as %q in %v, want flotilla-admin in system:masters", got.Username, got.Groups)
	}
}

func TestStartControlPlaneInstallsCRDs(t *testing.T) {
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: assets(t), CRDDirectories: []string{filepath.Join("..", "..", "config", "crd", "bases")}})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	var stacks v1alpha1.StackList
	if err := cp.Client.List(context.Background(), &stacks); err != nil {
		t.Errorf("listing Stacks after installing config/crd: %v", err)
	}
}

// A CRD directory that does not exist fails the start, and the etcd and
// kube-apiserver already running are stopped.
func TestStartControlPlaneStopsEverythingWhenTheCRDsFail(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-crds")
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: assets(t), CRDDirectories: []string{missing}})
	if err == nil {
		cp.Stop()
		t.Fatal("StartControlPlane with a missing CRD directory: want an error")
	}
	if !strings.Contains(err.Error(), "no-such-crds") {
		t.Errorf("error %q: want it to name the CRD directory", err)
	}
	if left := controlPlaneChildren(t); len(left) > 0 {
		t.Errorf("after the failed start, %v still run", left)
	}
}

// An explicit Assets wins over $KUBEBUILDER_ASSETS and $TEST_ASSET_*.
func TestStartControlPlaneAssetsWinOverTheEnvironment(t *testing.T) {
	dir := assets(t)
	empty := t.TempDir()
	t.Setenv("KUBEBUILDER_ASSETS", empty)
	t.Setenv("TEST_ASSET_ETCD", filepath.Join(empty, "etcd"))
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: dir})
	if err != nil {
		t.Fatalf("StartControlPlane with Assets %s and $KUBEBUILDER_ASSETS %s (empty): %v", dir, empty, err)
	}
	cp.Stop()
}

func TestStartControlPlaneRefusesNoAssets(t *testing.T) {
	_, err := StartControlPlane(ControlPlaneOptions{})
	if err == nil || !strings.Contains(err.Error(), "kube-apiserver and etcd") {
		t.Errorf("StartControlPlane without Assets = %v, want an error saying what is missing", err)
	}
}

func TestStartControlPlaneReportsMissingBinaries(t *testing.T) {
	empty := t.TempDir()
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: empty})
	if err == nil {
		cp.Stop()
	}
	if err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("StartControlPlane from an empty directory = %v, want an error naming it", err)
	}
	if left := controlPlaneChildren(t); len(left) > 0 {
		t.Errorf("after the failed start, %v still run", left)
	}
}

func TestAddUserHasOnlyTheRightsRBACGives(t *testing.T) {
	cp, err := StartControlPlane(ControlPlaneOptions{Assets: assets(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	cfg, err := cp.AddUser("nobody", "some-group")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.List(context.Background(), &corev1.SecretList{}, client.InNamespace("default"))
	if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("an unbound user listing Secrets: %v, want forbidden naming the user", err)
	}
}

func TestStopOfANilControlPlane(t *testing.T) {
	var cp *ControlPlane
	if err := cp.Stop(); err != nil {
		t.Errorf("Stop of nil = %v", err)
	}
}

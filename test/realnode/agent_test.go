package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/stackspec"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// clusterPath is the cluster's directory in the fleet repository.
const clusterPath = "clusters/realnode"

// rootStackKey is the Stack bootstrap creates.
var rootStackKey = client.ObjectKey{Namespace: install.DefaultNamespace, Name: "cluster"}

// fleet is the fixture the subtests share: a Git server on the node's
// address that the agent Pod fetches from, and a working copy to push with.
type fleet struct {
	srv            *gitserver.HTTPServer
	work           *gitserver.Workdir
	user, password string
	// head is the last commit pushed.
	head string
	// app is the Stack of appPath that scenario 2 creates.
	app client.ObjectKey
}

// repoURL is the repository's URL as the agent Pod reaches it.
func (f *fleet) repoURL() string { return f.srv.RepoURL("fleet") }

// push commits everything in the working copy and pushes it to main.
func (f *fleet) push(t *testing.T, msg string) string {
	t.Helper()
	f.head = f.work.Commit(t, msg)
	f.work.Push(t, "main")
	return f.head
}

// pull makes the working copy the remote's main (after bootstrap pushed).
func (f *fleet) pull(t *testing.T) {
	t.Helper()
	f.work.Git(t, "fetch", "--quiet", "origin", "main")
	f.work.ResetHard(t, "FETCH_HEAD")
	f.head = f.work.Git(t, "rev-parse", "HEAD")
}

// TestAgentOnARealNode bootstraps Flotilla on the real node once and runs
// the scenarios in order: the agent is a singleton in the cluster, and each
// scenario starts from the state the one before left.
func TestAgentOnARealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs the agent on a real node, not with -short")
	}
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	f := &fleet{user: "fleet", password: "realnode-" + randomHex(t)}
	f.srv = gitserver.NewHTTP(t, root, gitserver.WithBasicAuth(f.user, f.password), gitserver.WithHost(localnode.NodeIP))
	// The working copy pushes to the bare repository's path, so no
	// credential is written into its configuration.
	f.work = gitserver.NewWorkdir(t, root.Path("fleet"))

	steps := []struct {
		name string
		run  func(*testing.T, *fleet)
	}{
		{"bootstrap runs the agent as a Pod from its image and manages itself", testBootstrap},
		{"a Stack with wait is Ready only once its Deployment is Available", testWaitForAvailable},
		{"an image that does not exist fails the Stack within its timeout", testMissingImage},
		{"the agent restarted with an empty data directory converges without a storm", testRestartWithEmptyData},
		{"two replicas with leader election: the leader deleted mid-reconcile, the other takes over", testLeaderFailover},
		{"a tag pushed to the registry becomes a commit in Git and then the running version", testImageAutomation},
		{"a Canary promotes a good release and rolls back a bad one, judged by Prometheus, with notes in Git", testCanary},
		{"without cluster-admin, a Stack's ServiceAccount watches its objects and a hand edit is reverted", testLeastPrivilege},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, f) }) {
			t.Fatalf("%q failed; the scenarios after it build on it", s.name)
		}
	}
}

func testBootstrap(t *testing.T, f *fleet) {
	out, err := runCLI(t, 5*time.Minute, "bootstrap",
		"--kubeconfig", cluster.Kubeconfig,
		"--url", f.repoURL(), "--branch", "main", "--path", clusterPath,
		"--username", f.user, "--password", f.password,
		"--image", agentImage, "--interval", "5s", "--timeout", "3m")
	if err != nil {
		t.Fatalf("flotilla bootstrap: %v\n%s\n%s", err, out, diagnostics(t))
	}
	if strings.Contains(out, f.password) {
		t.Errorf("bootstrap's output holds the password:\n%s", out)
	}
	f.pull(t)

	dep := waitAvailable(t, agentKey, 2*time.Minute)
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != agentImage {
		t.Errorf("the agent's Deployment runs image %s, want %s", got, agentImage)
	}
	pods := agentPods(t)
	if len(pods) != 1 {
		t.Fatalf("want 1 agent Pod, got %d\n%s", len(pods), diagnostics(t))
	}
	p := &pods[0]
	if !podReady(p) || len(p.Status.ContainerStatuses) != 1 {
		t.Fatalf("the agent Pod is not Running and Ready: %s", podReport(p))
	}
	if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.Image != agentImage {
		t.Errorf("want the agent's container from %s with no restart: %s\n%s", agentImage, podReport(p), diagnostics(t))
	}

	// Its log is readable through the API server (the diagnostics use it)
	// and in JSON.
	eventually(t, 30*time.Second, "the agent's JSON log through the API server", func() (bool, string) {
		log := podLog(context.Background(), clientset(t), p, false, 20)
		return strings.HasPrefix(strings.TrimSpace(log), "{"), log
	})

	st := waitStack(t, rootStackKey, gitRevision(f.head), 2*time.Minute)
	if !inInventory(st, "apps", "Deployment", agentKey.Namespace, agentKey.Name) {
		t.Errorf("the root Stack's inventory lacks the agent's own Deployment: %+v", st.Status.Inventory)
	}

	// A commit to the cluster's directory reaches the cluster: the Pod
	// fetched it over the pod network, with the credentials in the Secret.
	f.work.WriteFile(t, clusterPath+"/hello.yaml", configMapYAML("hello", install.DefaultNamespace, "greeting", "hello from git"))
	f.work.WriteFile(t, clusterPath+"/"+bootstrap.KustomizationFile, kustomization(bootstrap.ComponentsFile, bootstrap.SyncFile, "hello.yaml"))
	rev := gitRevision(f.push(t, "add a ConfigMap"))
	var cm corev1.ConfigMap
	eventually(t, 90*time.Second, "the ConfigMap committed to Git in the cluster", func() (bool, string) {
		err := cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: install.DefaultNamespace, Name: "hello"}, &cm)
		if err != nil {
			return false, err.Error()
		}
		return cm.Data["greeting"] == "hello from git", fmt.Sprintf("data %v", cm.Data)
	})
	waitStack(t, rootStackKey, rev, time.Minute)
}

// inInventory reports whether the Stack's inventory lists the object.
func inInventory(st *v1alpha1.Stack, group, kind, namespace, name string) bool {
	for _, e := range st.Status.Inventory {
		if e.Group == group && e.Kind == kind && e.Namespace == namespace && e.Name == name {
			return true
		}
	}
	return false
}

// configMapYAML is a ConfigMap with one key; without a namespace when
// namespace is empty.
func configMapYAML(name, namespace, key, value string) string {
	meta := "  name: " + name + "\n"
	if namespace != "" {
		meta += "  namespace: " + namespace + "\n"
	}
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n%sdata:\n  %s: %q\n", meta, key, value)
}

// kustomization lists resources.
func kustomization(resources ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	return b.String()
}

// appPath holds the example app: a Deployment that is not ready for a
// while after each start, a Service and two ConfigMaps.
const appPath = "apps/slow-start"

// appReadyAfter is how long each app Pod is not ready after its start.
const appReadyAfter = 8 * time.Second

// writeApp writes appPath with message in the app's environment and the
// ConfigMaps configMaps (name to value).
func writeApp(t *testing.T, f *fleet, message string, configMaps map[string]string) {
	t.Helper()
	f.work.Remove(t, appPath)
	resources := []string{"deployment.yaml", "service.yaml"}
	f.work.WriteFile(t, appPath+"/deployment.yaml", appDeploymentYAML("app", appImage, message))
	f.work.WriteFile(t, appPath+"/service.yaml", serviceYAML("app"))
	for _, name := range sortedKeys(configMaps) {
		file := "configmap-" + name + ".yaml"
		f.work.WriteFile(t, appPath+"/"+file, configMapYAML(name, "", "value", configMaps[name]))
		resources = append(resources, file)
	}
	f.work.WriteFile(t, appPath+"/kustomization.yaml", kustomization(resources...))
}

func testWaitForAvailable(t *testing.T, f *fleet) {
	ctx := context.Background()
	writeApp(t, f, "first", map[string]string{"settings": "1", "old": "1"})
	rev := gitRevision(f.push(t, "add the slow-starting app"))
	ns := newNamespace(t, "slow-start")
	f.app = client.ObjectKey{Namespace: ns, Name: "app"}
	createSource(t, f, ns)
	mustCreate(t, newStack(ns, "app", appPath, 2*time.Minute, true))

	// The Stack is read before the Deployment: when a Stack Ready at rev is
	// seen, the Deployment read after it must be Available already.
	depKey := client.ObjectKey{Namespace: ns, Name: "app"}
	var sawWaiting bool
	eventually(t, 3*time.Minute, "the Stack Ready at "+rev+" and the Deployment Available", func() (bool, string) {
		var st v1alpha1.Stack
		var dep appsv1.Deployment
		if err := cluster.Client.Get(ctx, f.app, &st); err != nil {
			return false, err.Error()
		}
		ready := stackspec.ReadyAt(&st, rev)
		err := cluster.Client.Get(ctx, depKey, &dep)
		depOK, depState := false, "Deployment: "+fmt.Sprint(err)
		if err == nil {
			depOK, depState = available(&dep)
		}
		if ready && !depOK {
			t.Fatalf("the Stack is Ready at %s while its Deployment is not Available:\n%s\n%s\n%s", rev, describeStack(&st), depState, diagnostics(t))
		}
		if err == nil && !depOK && !ready {
			sawWaiting = true
		}
		return ready && depOK, describeStack(&st) + "\n" + depState
	})
	if !sawWaiting {
		t.Errorf("never saw the Stack not Ready while its Deployment was not yet Available (the app is not ready for %s)", appReadyAfter)
	}

	var svc corev1.Service
	mustGet(t, client.ObjectKey{Namespace: ns, Name: "app"}, &svc)
	url := fmt.Sprintf("http://%s/version", net.JoinHostPort(svc.Spec.ClusterIP, "80"))
	var body string
	eventually(t, 30*time.Second, "GET "+url+" through kube-proxy", func() (bool, string) {
		status, b, err := httpGet(url)
		body = b
		return err == nil && status == http.StatusOK, fmt.Sprintf("status %d, error %v, body %q", status, err, b)
	})
	var version struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(body), &version); err != nil || version.Version != "v1" {
		t.Errorf("GET %s = %q, want the version JSON of v1 (decode error %v)", url, body, err)
	}
}

func testMissingImage(t *testing.T, f *fleet) {
	ctx := context.Background()
	const path = "apps/missing-image"
	missing := cluster.Registry.Host + "/app:does-not-exist"
	f.work.WriteFile(t, path+"/deployment.yaml", appDeploymentYAML("broken", missing, "never runs"))
	f.work.WriteFile(t, path+"/kustomization.yaml", kustomization("deployment.yaml"))
	rev := gitRevision(f.push(t, "add a Deployment of an image that does not exist"))
	ns := newNamespace(t, "missing-image")
	createSource(t, f, ns)
	st := newStack(ns, "broken", path, 40*time.Second, true)
	mustCreate(t, st)
	key := client.ObjectKeyFromObject(st)

	var ready v1alpha1.Stack
	eventually(t, 2*time.Minute, "the Stack to fail its health check at "+rev, func() (bool, string) {
		if err := cluster.Client.Get(ctx, key, &ready); err != nil {
			return false, err.Error()
		}
		c := readyCondition(&ready)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == v1alpha1.ReasonHealthCheckFailed &&
			ready.Status.LastAttemptedRevision == rev, describeStack(&ready)
	})
	msg := readyCondition(&ready).Message
	t.Logf("the Stack's Ready message: %s", msg)
	for _, want := range []string{"Deployment", ns + "/broken"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Ready message does not name the Deployment (%q): %s", want, msg)
		}
	}
	if !strings.Contains(msg, "ErrImagePull") && !strings.Contains(msg, "ImagePullBackOff") {
		t.Errorf("the Ready message does not give the pull error (ErrImagePull or ImagePullBackOff): %s", msg)
	}
	if ready.Status.LastAppliedRevision == rev {
		t.Errorf("lastAppliedRevision = %s although the health check failed", rev)
	}

	// The scenarios after this one want every Stack Ready: delete this one
	// (it prunes the Deployment).
	if err := cluster.Client.Delete(ctx, st); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the failed Stack to be deleted", func() (bool, string) {
		err := cluster.Client.Get(ctx, key, &ready)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// createSource creates the credentials Secret and a GitRepository "fleet"
// of the fleet repository in ns.
func createSource(t *testing.T, f *fleet, ns string) {
	t.Helper()
	mustCreate(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet-git"},
		Data:       map[string][]byte{"username": []byte(f.user), "password": []byte(f.password)},
	})
	mustCreate(t, &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec: v1alpha1.GitRepositorySpec{
			URL:       f.repoURL(),
			Interval:  metav1.Duration{Duration: 5 * time.Second},
			Ref:       &v1alpha1.GitRepositoryRef{Branch: "main"},
			SecretRef: &v1alpha1.LocalObjectReference{Name: "fleet-git"},
		},
	})
}

// newStack is a pruning Stack of path in ns, applied into ns.
func newStack(ns, name, path string, timeout time.Duration, wait bool) *v1alpha1.Stack {
	return &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.StackSpec{
			SourceRef:       v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:            "./" + path,
			Interval:        metav1.Duration{Duration: 30 * time.Second},
			RetryInterval:   &metav1.Duration{Duration: 10 * time.Second},
			Timeout:         &metav1.Duration{Duration: timeout},
			Prune:           true,
			Wait:            wait,
			TargetNamespace: ns,
		},
	}
}

// appDeploymentYAML is a one-replica Deployment of the example app that is
// ready appReadyAfter after its start, with message in its environment.
func appDeploymentYAML(name, image, message string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: %[2]s
          env:
            - name: APP_READY_AFTER
              value: %[3]q
            - name: APP_MESSAGE
              value: %[4]q
            - name: APP_DRAIN_DELAY
              value: "1s"
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 1
            failureThreshold: 1
`, name, image, appReadyAfter.String(), message)
}

// serviceYAML is a ClusterIP Service on port 80 of the Pods labelled app=name.
func serviceYAML(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: http
`, name)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Package fleettest generates fleet repositories for the tests and the
// benchmark of flotilla plan: a deterministic repository of any number of
// clusters, laid out as examples/fleet (a shared infrastructure base, an
// application base with one overlay per cluster, and clusters/<name>/
// holding each cluster's Stacks), and Git helpers to commit changes to it.
package fleettest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Options size a generated fleet.
type Options struct {
	// Clusters is the number of clusters, named cluster-00, cluster-01...
	Clusters int
	// Objects is about how many objects each cluster renders (at least 20):
	// three quarters from the shared infrastructure base, the rest from the
	// cluster's application overlay.
	Objects int
}

// ClusterName is the name of the i-th cluster.
func ClusterName(i int) string { return fmt.Sprintf("cluster-%02d", i) }

// Files returns the fleet's files, path -> content. The same Options
// always give the same files.
func Files(o Options) map[string]string {
	o.Objects = max(o.Objects, 20)
	files := map[string]string{}
	infra := o.Objects * 3 / 4
	addInfrastructure(files, infra)
	addAppsBase(files)
	for i := range o.Clusters {
		addCluster(files, ClusterName(i), o.Objects-infra-appsBaseObjects)
	}
	return files
}

// SharedConfigMap is the file of the infrastructure base that every
// cluster renders; changing it changes every cluster.
const SharedConfigMap = "infrastructure/base/platform-0/config-0012.yaml"

// Overlay is the kustomization of the i-th cluster's application overlay.
func Overlay(i int) string {
	return "apps/overlays/" + ClusterName(i) + "/kustomization.yaml"
}

// addInfrastructure writes n objects over four namespaces, one file each:
// ConfigMaps (one of them with ${CLUSTER_NAME}), headless Services,
// ServiceAccounts and a Deployment per namespace.
func addInfrastructure(files map[string]string, n int) {
	var resources []string
	const namespaces = 4
	for ns := range namespaces {
		name := fmt.Sprintf("platform-%d", ns)
		files["infrastructure/base/"+name+"/namespace.yaml"] = fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
		resources = append(resources, name+"/namespace.yaml")
	}
	for i := range n - namespaces {
		ns := fmt.Sprintf("platform-%d", i%namespaces)
		file, doc := infraObject(ns, i)
		files["infrastructure/base/"+ns+"/"+file] = doc
		resources = append(resources, ns+"/"+file)
	}
	files["infrastructure/base/kustomization.yaml"] = kustomization(resources, "")
}

func infraObject(ns string, i int) (string, string) {
	switch {
	case i < namespacesDeployments:
		name := fmt.Sprintf("controller-%d", i)
		return name + ".yaml", deployment(ns, name, "registry.example.com/platform/controller:v1.0.0", 2)
	case i%3 == 0:
		name := fmt.Sprintf("config-%04d", i)
		return name + ".yaml", fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  cluster: ${CLUSTER_NAME}\n  value: \"value-%d\"\n", name, ns, i)
	case i%3 == 1:
		name := fmt.Sprintf("svc-%04d", i)
		return name + ".yaml", fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  clusterIP: None\n  selector:\n    app: %s\n  ports:\n  - name: http\n    port: 80\n", name, ns, name)
	default:
		name := fmt.Sprintf("sa-%04d", i)
		return name + ".yaml", fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
	}
}

// namespacesDeployments is how many Deployments the infrastructure has.
const namespacesDeployments = 4

// appsBaseObjects is how many objects apps/base holds.
const appsBaseObjects = 5

// addAppsBase writes the application every cluster runs.
func addAppsBase(files map[string]string) {
	files["apps/base/namespace.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
	files["apps/base/deployment.yaml"] = deployment("shop", "web", "registry.example.com/shop/web:1.0.0", 1)
	files["apps/base/service.yaml"] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    app: web\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
	files["apps/base/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-settings\n  namespace: shop\ndata:\n  REGION: ${CLUSTER_REGION}\n  LOG_LEVEL: info\n"
	files["apps/base/secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n  namespace: shop\ntype: Opaque\nstringData:\n  username: shop\n  password: base-password-value\n"
	files["apps/base/kustomization.yaml"] = kustomization([]string{"namespace.yaml", "configmap.yaml", "secret.yaml", "deployment.yaml", "service.yaml"}, "")
}

// addCluster writes a cluster's overlay (extra ConfigMaps and a replicas
// patch) and its Stacks.
func addCluster(files map[string]string, name string, extra int) {
	dir := "apps/overlays/" + name
	resources := []string{"../../base"}
	for i := range max(extra, 0) {
		f := fmt.Sprintf("settings-%03d.yaml", i)
		files[dir+"/"+f] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-%03d\n  namespace: shop\ndata:\n  cluster: %s\n  index: \"%d\"\n", i, name, i)
		resources = append(resources, f)
	}
	patch := "patches:\n- target:\n    kind: Deployment\n    name: web\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n"
	files[dir+"/kustomization.yaml"] = kustomization(resources, patch)
	c := "clusters/" + name
	files[c+"/kustomization.yaml"] = kustomization([]string{"infrastructure.yaml", "apps.yaml"}, "")
	files[c+"/infrastructure.yaml"] = stack("infrastructure", "./infrastructure/base", "", map[string]string{"CLUSTER_NAME": name})
	files[c+"/apps.yaml"] = stack("apps", "./"+dir, "infrastructure", map[string]string{"CLUSTER_NAME": name, "CLUSTER_REGION": "region-" + name[len(name)-1:]})
}

func kustomization(resources []string, extra string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		b.WriteString("- " + r + "\n")
	}
	b.WriteString(extra)
	return b.String()
}

func deployment(ns, name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: %[4]d
  selector:
    matchLabels:
      app: %[2]s
  template:
    metadata:
      labels:
        app: %[2]s
    spec:
      containers:
      - name: %[2]s
        image: %[3]s
        ports:
        - containerPort: 8080
`, ns, name, image, replicas)
}

func stack(name, p, dependsOn string, vars map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: flotilla.io/v1alpha1\nkind: Stack\nmetadata:\n  name: %s\n  namespace: flotilla-system\nspec:\n", name)
	if dependsOn != "" {
		fmt.Fprintf(&b, "  dependsOn:\n  - name: %s\n", dependsOn)
	}
	fmt.Fprintf(&b, "  sourceRef:\n    kind: GitRepository\n    name: fleet\n  path: %s\n  interval: 10m\n  prune: true\n", p)
	if len(vars) > 0 {
		b.WriteString("  postBuild:\n    substitute:\n")
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "      %s: %s\n", k, vars[k])
		}
	}
	return b.String()
}

// Write writes files under dir; an empty content deletes the file.
func Write(dir string, files map[string]string) error {
	for p, content := range files {
		dst := filepath.Join(dir, filepath.FromSlash(path.Clean(p)))
		if content == "" {
			if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CopyDir returns the files under dir (e.g. examples/fleet), path -> content.
func CopyDir(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return files, err
}

// InitRepo makes dir a Git repository on branch main holding files, in
// one commit.
func InitRepo(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := Git(dir, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	return Commit(dir, files, "the fleet")
}

// Commit writes files (an empty content deletes) and commits everything.
func Commit(dir string, files map[string]string, msg string) error {
	if err := Write(dir, files); err != nil {
		return err
	}
	if err := Git(dir, "add", "-A"); err != nil {
		return err
	}
	return Git(dir, "commit", "-q", "--allow-empty", "-m", msg)
}

// Git runs git in dir with a fixed identity and no user configuration.
func Git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Fleet Test", "GIT_AUTHOR_EMAIL=fleet@example.com", "GIT_COMMITTER_NAME=Fleet Test",
		"GIT_COMMITTER_EMAIL=fleet@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// RenderPaths are the paths the agents of the i-th cluster render: its
// root (what the root Stack applies) and the path of each of its Stacks.
func RenderPaths(i int) []string {
	return []string{"clusters/" + ClusterName(i), "infrastructure/base", "apps/overlays/" + ClusterName(i)}
}

package harness

import (
	"fmt"
	"path"
)

// MixedKinds are the kinds Mixed spreads its objects over, in turn.
var MixedKinds = []string{"ConfigMap", "Secret", "Service", "Deployment", "ServiceAccount", "Role", "RoleBinding", "Widget"}

// WidgetGroup is the API group of the CRD a Mixed set defines.
const WidgetGroup = "bench.flotilla.io"

// Mixed returns the manifests of n objects, one file each, a mix of what
// a cluster's Stack holds: Namespaces (one per 100 objects, at least one),
// the CRD of the Widget kind, and then ConfigMaps, Secrets, headless
// Services, Deployments, ServiceAccounts, Roles, RoleBindings and Widgets in
// turn, spread over the Namespaces. Objects are named <kind>-<index> and
// their files are dir/<namespace>/<kind>-<index>.yaml, the Namespaces and
// the CRD under dir/cluster/. value is written into every ConfigMap,
// Secret, Deployment and Widget, so a new value changes those objects.
// The objects number n in all, the Namespaces and the CRD included.
func Mixed(dir, prefix string, n int, value string) map[string]string {
	files := make(map[string]string, n)
	namespaces := max(1, n/100)
	nss := make([]string, namespaces)
	for i := range nss {
		nss[i] = fmt.Sprintf("%s-%d", prefix, i)
		files[path.Join(dir, "cluster", "namespace-"+nss[i]+".yaml")] = fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", nss[i])
	}
	files[path.Join(dir, "cluster", "crd-widgets.yaml")] = widgetCRD
	for i := range n - namespaces - 1 {
		kind := MixedKinds[i%len(MixedKinds)]
		ns := nss[i%namespaces]
		name := fmt.Sprintf("%s-%05d", lower(kind), i)
		files[path.Join(dir, ns, name+".yaml")] = mixedObject(kind, ns, name, value)
	}
	return files
}

func lower(kind string) string {
	b := []byte(kind)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func mixedObject(kind, ns, name, value string) string {
	head := fmt.Sprintf("metadata:\n  name: %s\n  namespace: %s\n  labels:\n    app: %s\n", name, ns, name)
	switch kind {
	case "ConfigMap":
		return "apiVersion: v1\nkind: ConfigMap\n" + head + fmt.Sprintf("data:\n  value: %q\n  settings.yaml: |\n    name: %s\n    replicas: 3\n", value, name)
	case "Secret":
		return "apiVersion: v1\nkind: Secret\n" + head + fmt.Sprintf("type: Opaque\nstringData:\n  token: %q\n", "s3cr3t-"+value)
	case "Service":
		// Headless: the test control plane has a /24 of ClusterIPs.
		return "apiVersion: v1\nkind: Service\n" + head + fmt.Sprintf("spec:\n  clusterIP: None\n  selector:\n    app: %s\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n", name)
	case "Deployment":
		return "apiVersion: apps/v1\nkind: Deployment\n" + head + fmt.Sprintf(`spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: app
        image: registry.example/app:1.0
        env:
        - name: VALUE
          value: %[2]q
        ports:
        - containerPort: 8080
        resources:
          requests:
            cpu: 10m
            memory: 16Mi
`, name, value)
	case "ServiceAccount":
		return "apiVersion: v1\nkind: ServiceAccount\n" + head
	case "Role":
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n" + head + "rules:\n- apiGroups: [\"\"]\n  resources: [\"configmaps\"]\n  verbs: [\"get\", \"list\", \"watch\"]\n"
	case "RoleBinding":
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n" + head + fmt.Sprintf("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: %s\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: %s\n", name, ns)
	default:
		return "apiVersion: " + WidgetGroup + "/v1\nkind: Widget\n" + head + fmt.Sprintf("spec:\n  size: 3\n  value: %q\n", value)
	}
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + WidgetGroup + `
spec:
  group: ` + WidgetGroup + `
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    listKind: WidgetList
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
              value:
                type: string
`

package harness

import (
	"fmt"
	"path"
)

// ConfigMaps returns n ConfigMap manifests named <prefix>-000... in
// namespace ns, one file each under dir, each holding data.value = value.
func ConfigMaps(dir, ns, prefix string, n int, value string) map[string]string {
	files := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		files[path.Join(dir, name+".yaml")] = configMap(ns, name, value)
	}
	return files
}

// Fleet returns objects manifests spread round-robin over the namespaces
// <prefix>-0 ... <prefix>-<namespaces-1> and over three kinds: ConfigMap,
// headless Service and ServiceAccount. The Namespace objects are part of
// the set, one file each, so the Stack that applies it creates them; the
// other objects are one file each under dir/<namespace>/.
func Fleet(dir, prefix string, namespaces, objects int) map[string]string {
	files := make(map[string]string, objects+namespaces)
	nss := make([]string, namespaces)
	for i := range nss {
		nss[i] = fmt.Sprintf("%s-%d", prefix, i)
		files[path.Join(dir, "namespaces", nss[i]+".yaml")] = fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", nss[i])
	}
	for i := range objects {
		ns := nss[i%namespaces]
		var name, doc string
		switch i % 3 {
		case 0:
			name = fmt.Sprintf("config-%04d", i)
			doc = configMap(ns, name, fmt.Sprintf("value-%d", i))
		case 1:
			// Headless: the test control plane has a /24 of ClusterIPs.
			name = fmt.Sprintf("svc-%04d", i)
			doc = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  clusterIP: None\n  selector:\n    app: %s\n  ports:\n  - name: http\n    port: 80\n", name, ns, name)
		default:
			name = fmt.Sprintf("sa-%04d", i)
			doc = fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
		}
		files[path.Join(dir, ns, name+".yaml")] = doc
	}
	return files
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

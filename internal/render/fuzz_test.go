package render

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// fuzzMarker prefixes every variable value in FuzzSubstitute.
const fuzzMarker = "\U0001F511"

// FuzzSubstitute checks, for any YAML object and any variable:
//   - substitution never panics;
//   - an error never holds a value (values all start with fuzzMarker) unless
//     the input itself holds the marker;
//   - the result is always valid YAML, and when no mapping key holds "${",
//     its shape (keys, sequence lengths, nesting) is the input's;
//   - an object annotated flotilla.io/substitute: disabled is not changed.
func FuzzSubstitute(f *testing.F) {
	for _, seed := range []string{
		"kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${A}\n",
		"a: ${A:=default}\nb: $${A}\nc: [${A}]\n",
		"a: |\n  ${A}\n  line\nb: '${A}'\n",
		"${A}: x\n${NAME}: y\n",
		"a: ${NAME}\nb:\n- ${NAME:=}\n- - ${A}${A}\n",
		"a: ${1}\n",
		"a: ${A\n",
		"a: !!str ${A}\n",
	} {
		f.Add(seed, "NAME", "value")
	}
	f.Add("a: ${NAME}\n", "NAME", "x: y\n- [z]")
	f.Add("a: ${NAME}\n", "NAME", "42")
	f.Fuzz(func(t *testing.T, doc, name, value string) {
		vars := map[string]string{"A": fuzzMarker + value, name: fuzzMarker + value}
		n, err := yaml.Parse(doc)
		if err != nil || n.YNode().Kind != yaml.MappingNode {
			return
		}
		shapeBefore, keysMayChange := shape(n.YNode()), keysHoldExpression(n.YNode())
		if err := substitute(n, vars); err != nil {
			if strings.Contains(err.Error(), fuzzMarker) && !strings.Contains(doc, fuzzMarker) && !strings.Contains(name, fuzzMarker) {
				t.Fatalf("error holds a value: %v", err)
			}
			return
		}
		out, err := n.String()
		if err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		again, err := yaml.Parse(out)
		if err != nil {
			t.Fatalf("result does not parse: %v\n%s", err, out)
		}
		if !keysMayChange && shape(again.YNode()) != shapeBefore {
			t.Fatalf("shape changed:\n%s\nbecame\n%s", shapeBefore, shape(n.YNode()))
		}
		checkDisabledUnchanged(t, doc, vars)
	})
}

// checkDisabledUnchanged parses doc again, marks it disabled, converts it
// and checks that nothing but what the converter owns changed.
func checkDisabledUnchanged(t *testing.T, doc string, vars map[string]string) {
	n, err := yaml.Parse(doc)
	if err != nil || n.PipeE(yaml.SetAnnotation(SubstituteDisabledAnnotation, SubstituteDisabledValue)) != nil {
		return
	}
	before, err := n.String()
	if err != nil {
		return
	}
	c := &converter{o: Options{Substitute: vars}, redactor: redact.New(), seen: map[objectKey]string{}}
	_, _ = c.convert(n)
	if after, _ := n.String(); after != before {
		t.Fatalf("an object with substitution disabled changed:\n%s\nbecame\n%s", before, after)
	}
}

// shape describes a node's structure without its scalar values.
func shape(n *yaml.Node) string {
	var b strings.Builder
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			b.WriteString("{")
			for i := 0; i+1 < len(n.Content); i += 2 {
				b.WriteString(n.Content[i].Value + ":")
				walk(n.Content[i+1])
				b.WriteString(",")
			}
			b.WriteString("}")
		case yaml.SequenceNode:
			b.WriteString("[")
			for _, c := range n.Content {
				walk(c)
				b.WriteString(",")
			}
			b.WriteString("]")
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		default:
			b.WriteString("s")
		}
	}
	walk(n)
	return b.String()
}

func keysHoldExpression(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.Contains(n.Content[i].Value, "$") {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if keysHoldExpression(c) {
			return true
		}
	}
	return false
}

// FuzzBuildKustomization renders random kustomization.yaml bytes in a tree
// that sits next to files holding outsideMarker and holds symlinks to them.
// For any input: Build never panics, never returns or reports the marker,
// never runs git (a fake git on PATH trips a wire), and never makes an HTTP
// request (a proxy counts them).
func FuzzBuildKustomization(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	root, wires := fuzzTree(f)
	f.Fuzz(func(t *testing.T, kustomization []byte) {
		if err := os.WriteFile(filepath.Join(root, "kustomization.yaml"), kustomization, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		objs, err := Build(ctx, Options{Root: root, Substitute: map[string]string{"X": "y"}})
		if err != nil {
			assertNoSecret(t, err.Error(), outsideMarker)
		}
		for _, o := range objs {
			if o == nil {
				t.Fatal("nil object")
			}
		}
		assertNoSecret(t, toYAML(t, objs), outsideMarker)
		wires.check(t)
	})
}

var fuzzSeeds = []string{
	"resources: [cm.yaml, base]\n",
	"resources: [../outside.yaml]\n",
	"resources: [leak.yaml]\n",
	"resources: [vendor]\n",
	"resources: [vendor/cm.yaml]\n",
	"resources: [/etc/passwd]\n",
	"resources:\n- https://example.com/cm.yaml\n",
	"resources:\n- github.com/example/fleet//base?ref=main\n",
	"resources:\n- git@github.com:example/fleet.git\n",
	"resources:\n- example.com/fleet//base\n",
	"components: [component]\nresources: [cm.yaml]\n",
	"configMapGenerator:\n- name: x\n  files: [../outside.txt]\n",
	"configMapGenerator:\n- name: x\n  files: [k=leak.yaml]\n  envs: [app.env]\n",
	"secretGenerator:\n- name: x\n  literals: [a=b]\n  envs: [app.env]\n",
	"resources: [cm.yaml]\npatches:\n- path: ../outside.yaml\n",
	"resources: [cm.yaml]\npatchesStrategicMerge:\n- leak.yaml\n",
	"resources: [cm.yaml]\nopenapi:\n  path: leak.yaml\n",
	"resources: [cm.yaml]\ncrds: [vendor/cm.yaml]\n",
	"resources: [cm.yaml]\ntransformers:\n- |\n  apiVersion: x/v1\n  kind: Fn\n  metadata:\n    name: f\n    annotations:\n      config.kubernetes.io/function: 'exec: {path: /bin/sh}'\n",
	"resources: [cm.yaml]\ngenerators: [fn.yaml]\n",
	"resources: [cm.yaml]\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: p\n  path: https://example.com/p.yaml\n  target: {kind: ConfigMap}\n",
	"helmCharts:\n- name: x\n  repo: https://example.com\n",
	"resources: [cm.yaml]\nnamespace: ns\nnamePrefix: p-\nlabels:\n- pairs: {a: b}\n",
	"resources: [cm.yaml]\nreplacements:\n- path: leak.yaml\n",
	"resources: [base, base]\n",
	"resources: [.]\n",
	"bases: [..]\n",
	"resources: [cm.yaml]\nconfigurations: [../outside.yaml]\n",
	"[",
	"",
}

// tripwires notice a git run and HTTP requests.
type tripwires struct {
	gitMarker string
	requests  *atomic.Int64
}

func (w tripwires) check(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(w.gitMarker); err == nil {
		t.Fatal("git was run")
	}
	if n := w.requests.Load(); n > 0 {
		t.Fatalf("%d HTTP requests were made", n)
	}
}

// fuzzTree writes the tree FuzzBuildKustomization renders, a fake git on
// PATH and an HTTP proxy, and returns the root.
func fuzzTree(f *testing.F) (string, tripwires) {
	tmp := f.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\ndata:\n  marker: " + outsideMarker + "\n"
	for name, content := range map[string]string{
		"outside.yaml":                   cm,
		"outside.txt":                    outsideMarker,
		"outside-dir/cm.yaml":            cm,
		"outside-dir/kustomization.yaml": "resources: [cm.yaml]\n",
		"root/cm.yaml":                   configMap,
		"root/app.env":                   "A=b\n",
		"root/base/kustomization.yaml":   "resources: [deploy.yaml]\n",
		"root/base/deploy.yaml":          "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: ${X}\n",
		"root/component/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" +
			"resources: [extra.yaml]\n",
		"root/component/extra.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
		"root/fn.yaml":              "apiVersion: x/v1\nkind: Fn\nmetadata:\n  name: f\n  annotations:\n    config.kubernetes.io/function: 'container: {image: x}'\n",
	} {
		writeFile(f, tmp, name, content)
	}
	gitMarker := filepath.Join(tmp, "git-was-run")
	writeFile(f, tmp, "bin/git", "#!/bin/sh\n: > '"+gitMarker+"'\nexit 1\n")
	root := filepath.Join(tmp, "root")
	for link, target := range map[string]string{"leak.yaml": "../outside.yaml", "vendor": "../outside-dir"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(tmp, "bin", "git"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Setenv("PATH", filepath.Join(tmp, "bin"))
	requests := &atomic.Int64{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	f.Cleanup(proxy.Close)
	f.Setenv("HTTP_PROXY", proxy.URL)
	f.Setenv("HTTPS_PROXY", proxy.URL)
	f.Setenv("NO_PROXY", "")
	return root, tripwires{gitMarker: gitMarker, requests: requests}
}

package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sentinels are the causes compared between the two paths.
var sentinels = []error{ErrInvalidOptions, ErrOutsideRoot, ErrRemote, ErrHelm, ErrPlugin, ErrTooLarge, ErrNotFound,
	ErrInvalidYAML, ErrInvalidKustomization, ErrUndefinedVariable, ErrInvalidSubstitution, ErrDuplicate, ErrDecryption}

// buildBoth renders opts on the default path (the fast path where it
// applies) and through kustomize only, fails the test unless both give the
// same objects byte for byte or both fail for the same cause, and returns
// the default path's result. When the messages differ, both must name the
// file or the object at fault (kustomize names a namespace conflict by its
// objects, the fast path by both files and the object).
func buildBoth(t testing.TB, opts Options) ([]*unstructured.Unstructured, error) {
	t.Helper()
	fast, fastErr := Build(context.Background(), opts)
	slowOpts := opts
	slowOpts.kustomizeOnly = true
	slow, slowErr := Build(context.Background(), slowOpts)
	switch {
	case fastErr == nil && slowErr == nil:
		if diff := cmp.Diff(toYAML(t, slow), toYAML(t, fast)); diff != "" {
			t.Errorf("the fast path renders %s differently from kustomize (-kustomize +fast):\n%s", opts.Path, diff)
		}
	case fastErr == nil || slowErr == nil:
		t.Errorf("one path fails and the other does not:\nfast path: %v\nkustomize: %v", fastErr, slowErr)
	default:
		compareErrors(t, opts.Path, fastErr, slowErr)
	}
	return fast, fastErr
}

// compareErrors checks that two failures of one input have the same cause
// and, when worded differently, both say where.
func compareErrors(t testing.TB, dir string, fastErr, slowErr error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(fastErr, s) != errors.Is(slowErr, s) {
			t.Errorf("the paths fail for different causes (%v):\nfast path: %v\nkustomize: %v", s, fastErr, slowErr)
		}
	}
	if fastErr.Error() == slowErr.Error() {
		return
	}
	var fe *Error
	if !errors.As(fastErr, &fe) || fe.Path == "" || !strings.Contains(fastErr.Error(), fe.Path) {
		t.Errorf("the fast path's error does not name the file: %v", fastErr)
		return
	}
	// kustomize names a file relative to the rendered directory.
	rel, _ := filepath.Rel(dir, fe.Path)
	namesFile := strings.Contains(slowErr.Error(), fe.Path) || strings.Contains(slowErr.Error(), "'"+rel+"'")
	if !namesFile && (fe.Object == "" || !strings.Contains(slowErr.Error(), fe.Object)) {
		t.Errorf("kustomize's error names neither the file %s nor the object %q: %v", fe.Path, fe.Object, slowErr)
	}
}

// optionSets are the Stack options every directory is rendered with.
var optionSets = map[string]func(o *Options){
	"none": func(*Options) {},
	"target-namespace-labels-annotations": func(o *Options) {
		o.TargetNamespace = "tenant"
		o.CommonLabels = map[string]string{"team": "payments", "app.kubernetes.io/part-of": "fleet"}
		o.CommonAnnotations = map[string]string{"owner": "platform"}
	},
	"labels-and-substitution": func(o *Options) {
		o.CommonLabels = map[string]string{"cluster": "prod"}
		o.Substitute = map[string]string{"CLUSTER": "prod-eu-west", "REPLICAS": "3", "FIRST": "a", "SECOND": "b"}
	},
}

// optionByte is the first byte of a FuzzFastPathMatchesKustomize input that
// picks the option set name.
func optionByte(name string) byte {
	return byte(slices.Index(slices.Sorted(maps.Keys(optionSets)), name))
}

// renderEveryDirectory renders every directory below root both ways with
// every option set, and returns how many renders took the fast path.
func renderEveryDirectory(t *testing.T, root string) int64 {
	t.Helper()
	before := fastRenders.Load()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for name, set := range optionSets {
			t.Run(filepath.ToSlash(rel)+"/"+name, func(t *testing.T) {
				o := Options{Root: root, Path: rel}
				set(&o)
				buildBoth(t, o)
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fastRenders.Load() - before
}

func TestFastPathMatchesKustomizeOnExamples(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	// Every directory of the example fleet has its own kustomization: the
	// comparison shows that the decision sends them all to kustomize.
	if fast := renderEveryDirectory(t, root); fast != 0 {
		t.Logf("%d renders of examples/ took the fast path", fast)
	}
}

func TestFastPathMatchesKustomizeOnTestdata(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var fast int64
	for _, e := range entries {
		if e.IsDir() && e.Name() != "golden" && e.Name() != "fuzz" {
			t.Run(e.Name(), func(t *testing.T) { fast += renderEveryDirectory(t, fixture(t, e.Name())) })
		}
	}
	if fast == 0 {
		t.Error("no fixture took the fast path: the comparison proves nothing")
	}
}

func TestFastPathMatchesKustomizeOnBenchmarkStacks(t *testing.T) {
	for _, n := range []int{1, 10, 250} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			before := fastRenders.Load()
			for name, set := range optionSets {
				t.Run(name, func(t *testing.T) {
					root, objects := mixedTree(t, n, false, name == "target-namespace-labels-annotations")
					o := Options{Root: root, Path: "stack"}
					set(&o)
					objs, err := buildBoth(t, o)
					if err != nil || len(objs) != objects {
						t.Fatalf("got %d objects and %v, want %d objects", len(objs), err, objects)
					}
				})
			}
			if fastRenders.Load() == before {
				t.Error("the benchmark's Stack did not take the fast path")
			}
		})
	}
	t.Run("fleet-base", func(t *testing.T) {
		// bench/cmd/fleet renders harness.Mixed through a kustomization
		// listing every file: the kustomize path on both sides.
		root, _ := mixedTree(t, 50, true, false)
		buildBoth(t, Options{Root: root, Path: "stack", CommonLabels: map[string]string{"fleet.flotilla.io/cluster": "c1"}})
	})
}

func TestFastPathMatchesKustomizeOnGeneratedFleets(t *testing.T) {
	var fast int64
	for seed := range uint64(60) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 19))
			files := generatedFleet(r)
			root := writeTree(t, files)
			before := fastRenders.Load()
			for name, set := range optionSets {
				t.Run(name, func(t *testing.T) {
					o := Options{Root: root, Path: "stack"}
					set(&o)
					buildBoth(t, o)
				})
			}
			fast += fastRenders.Load() - before
		})
	}
	t.Logf("%d of %d renders of generated fleets took the fast path", fast, 60*len(optionSets))
	if fast == 0 {
		t.Error("no generated fleet took the fast path: the comparison proves nothing")
	}
}

// generatedKinds are documents generatedFleet draws from; %[1]s is the
// name, %[2]s the metadata.namespace line (or nothing), %[3]s a name
// another object may hold.
var generatedKinds = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[1]s\n%[2]sdata:\n  key: \"value\" # a comment\n  other: ${CLUSTER:=dev}\n",
	"apiVersion: v1\nkind: Secret\nmetadata:\n  name: %[1]s\n%[2]stype: Opaque\nstringData:\n  token: t0ken\n",
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: %[1]s\n%[2]s  labels:\n    app: %[1]s\nspec:\n  selector:\n    app: %[1]s\n  ports:\n  - port: 80\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %[1]s\n%[2]sspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: %[1]s}\n  template:\n    metadata:\n      labels: {app: %[1]s}\n    spec:\n      serviceAccountName: %[3]s\n      containers:\n      - name: app\n        image: nginx:1.27\n        envFrom:\n        - configMapRef: {name: %[3]s}\n",
	"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %[1]s\n%[2]s",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: %[1]s\n%[2]srules: []\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: %[1]s\n%[2]sroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: %[3]s\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: other\n- kind: ServiceAccount\n  name: %[3]s\n",
	"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %[1]s\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %[1]s\n  annotations: {}\nrules: []\n",
	"apiVersion: bench.flotilla.io/v1\nkind: Widget\nmetadata:\n  name: %[1]s\n%[2]s  labels: {}\nspec:\n  size: 3\n  ref: %[3]s\n",
	"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: %[1]s.bench.flotilla.io\nspec:\n  group: bench.flotilla.io\n  scope: Namespaced\n  names: {plural: %[1]s, kind: W%[1]s}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object}\n",
	"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: %[1]s\n%[2]sspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: busybox}]\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: %[1]s-item\n%[2]s- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: %[1]s-sa\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[1]s\n%[2]s  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
	"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: %[1]s\n%[2]sspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %[3]s}\n  minReplicas: 1\n  maxReplicas: 3\n",
}

// separators join documents in one file, with the edge cases kustomize's
// reader accepts: comments, empty documents, a leading separator, an
// explicit end of document.
var separators = []string{"---\n", "\n---\n", "--- # next\n", "---\n---\n", "...\n---\n", "---\n# only a comment\n---\n"}

// generatedFleet writes a directory stack/ without a kustomization: files
// of one to three documents of random kinds, in one or more subdirectories,
// with or without namespaces; now and then two objects share an id, and
// an object holds the name of another (a name reference).
func generatedFleet(r *rand.Rand) map[string]string {
	files := map[string]string{}
	names := []string{"web", "api", "db", "cache", "worker"}
	namespaces := []string{"", "", "apps", "default", "team-a"}
	dirs := []string{"stack", "stack/apps", "stack/infra/base"}
	for f := range 1 + r.IntN(12) {
		var docs []string
		for range 1 + r.IntN(3) {
			tmpl := generatedKinds[r.IntN(len(generatedKinds))]
			name := names[r.IntN(len(names))] + fmt.Sprint(r.IntN(4))
			ns := namespaces[r.IntN(len(namespaces))]
			nsLine := ""
			if ns != "" {
				nsLine = "  namespace: " + ns + "\n"
			}
			ref := "unrelated"
			if r.IntN(4) == 0 {
				ref = names[r.IntN(len(names))] + fmt.Sprint(r.IntN(4))
			}
			docs = append(docs, fmt.Sprintf(tmpl, name, nsLine, ref))
		}
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteString(separators[r.IntN(len(separators))])
		}
		for i, d := range docs {
			if i > 0 {
				b.WriteString(separators[r.IntN(len(separators))])
			}
			b.WriteString(d)
		}
		ext := []string{".yaml", ".yml"}[r.IntN(2)]
		files[fmt.Sprintf("%s/file-%02d%s", dirs[r.IntN(len(dirs))], f, ext)] = b.String()
	}
	files["stack/README.md"] = "not rendered\n"
	return files
}

// FuzzFastPathMatchesKustomize renders a directory without a
// kustomization, holding the fuzzed file and a fixed one, through the fast
// path and through kustomize, with the Stack options the first byte picks,
// and requires the same objects byte for byte or the same failure. Every
// input is compared: an input that is not YAML, or not objects, must fail
// on both paths for the same cause.
func FuzzFastPathMatchesKustomize(f *testing.F) {
	for _, k := range generatedKinds {
		f.Add(byte(0), fmt.Sprintf(k, "seed", "  namespace: apps\n", "web"))
		f.Add(byte(1), fmt.Sprintf(k, "fixed", "", "fixed"))
	}
	for i, s := range separators {
		f.Add(byte(i), s+configMap+s+strings.ReplaceAll(configMap, "cm", "cm2"))
	}
	for i, s := range []string{"", "---\n", "# comment only\n", "[", "a: b\n", "apiVersion: v1\nkind: List\nitems: []\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed\n  namespace: apps\n", "kind: ConfigMap\nmetadata:\n  name: x\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: 1}\n  annotations: {b: 2}\n", "- a\n- b\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x]}\n",
		// kustomize's name-reference fix-up fails on these shapes, whether
		// or not an object has the kind and apiVersion it needs.
		"kind: Deployment\nmetadata:\n  name: d\nspec:\n  template: 1\n", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template: 1\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: ServiceAccount}]\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n- x\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: [a]\n"} {
		f.Add(byte(i), s)
	}
	f.Add(byte(0), "apiVersion: /\nkind: Role\nmetadata:\n  name: r\n")
	f.Add(optionByte("none"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {a: 0, b: true}\n")
	f.Add(optionByte("none"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {a: 0, &0 , 00000}\n")
	f.Add(byte(0), "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nsubjects:\n-\n")
	// kustomize fails to move an id with a comma to the target namespace.
	for _, s := range []string{"apiVersion: v1\nkind: S,0\nmetadata:\n  name: x\n", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: a,b\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: a,b\n"} {
		f.Add(optionByte("target-namespace-labels-annotations"), s)
	}
	f.Fuzz(func(t *testing.T, options byte, doc string) {
		root := writeTree(t, map[string]string{
			"stack/fuzzed.yaml": doc,
			"stack/fixed.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed\n  namespace: apps\ndata:\n  a: b\n",
		})
		o := Options{Root: root, Path: "stack"}
		sets := slices.Sorted(maps.Keys(optionSets))
		optionSets[sets[int(options)%len(sets)]](&o)
		buildBoth(t, o)
	})
}

// TestKustomizeDefaultsMatchTheModule fails when go.mod moves kustomize
// away from the version kustomize_defaults.yaml was copied from.
func TestKustomizeDefaultsMatchTheModule(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\tsigs.k8s.io/kustomize/api v0.21.2\n") {
		t.Fatal("go.mod no longer requires sigs.k8s.io/kustomize/api v0.21.2, the version kustomize_defaults.yaml was copied from: " +
			"copy namespace.go, commonannotations.go and namereference.go of its internal/konfig/builtinpluginconsts again")
	}
}

// TestFastPathDecision checks which inputs take the fast path.
func TestFastPathDecision(t *testing.T) {
	plain := map[string]string{"stack/cm.yaml": configMap, "stack/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n"}
	tests := []struct {
		name  string
		files map[string]string
		opts  func(o *Options)
		fast  bool
	}{
		{name: "plain-directory", files: plain, fast: true},
		{name: "plain-directory-with-options", files: plain, opts: func(o *Options) {
			o.TargetNamespace, o.CommonLabels, o.Substitute = "tenant", map[string]string{"a": "b"}, map[string]string{}
		}, fast: true},
		{name: "own-kustomization", files: map[string]string{"stack/kustomization.yaml": "resources: [cm.yaml]\n", "stack/cm.yaml": configMap}},
		{name: "subdirectory-with-kustomization", files: map[string]string{"stack/cm.yaml": configMap, "stack/base/kustomization.yaml": "resources: [sa.yaml]\n",
			"stack/base/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n"}},
		{name: "stack-patches", files: plain, opts: func(o *Options) {
			o.Patches = []Patch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n"}}
		}},
		{name: "stack-images", files: plain, opts: func(o *Options) { o.Images = []Image{{Name: "nginx", NewTag: "1.27"}} }},
		{name: "kustomize-annotation", files: map[string]string{"stack/cm.yaml": strings.Replace(configMap, "name: cm\n", "name: cm\n  annotations:\n    kustomize.config.k8s.io/needs-hash: \"true\"\n", 1)}},
		{name: "name-reference", files: map[string]string{"stack/cm.yaml": configMap,
			"stack/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  volumes:\n  - name: v\n    configMap: {name: cm}\n  containers: []\n"}},
		{name: "same-name-in-a-kind-that-cannot-refer", files: map[string]string{"stack/cm.yaml": configMap,
			"stack/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: cm\n"}, fast: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Root: writeTree(t, tt.files), Path: "stack"}
			if tt.opts != nil {
				tt.opts(&o)
			}
			before := fastRenders.Load()
			if _, err := buildBoth(t, o); err != nil {
				t.Fatal(err)
			}
			if got := fastRenders.Load() > before; got != tt.fast {
				t.Errorf("took the fast path: %t, want %t", got, tt.fast)
			}
		})
	}
}

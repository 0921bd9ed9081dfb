package render

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/flotilla-io/flotilla/bench/harness"
)

// mixedTree writes n objects of bench/harness.Mixed (one file each, mixed
// kinds) below stack/ and, when withKustomization, a kustomization.yaml
// listing every file; it returns the root and the number of objects.
// withoutNamespaces leaves the Namespaces out.
func mixedTree(b testing.TB, n int, withKustomization, withoutNamespaces bool) (root string, objects int) {
	b.Helper()
	files := harness.Mixed("stack", "bench", n, "v1")
	if withoutNamespaces {
		// A target namespace renames every Namespace object to it.
		for p := range files {
			if strings.HasPrefix(p, "stack/cluster/namespace-") {
				delete(files, p)
			}
		}
	}
	if withKustomization {
		var resources []string
		for p := range files {
			resources = append(resources, strings.TrimPrefix(p, "stack/"))
		}
		slices.Sort(resources)
		files[path.Join("stack", "kustomization.yaml")] = "resources:\n- " + strings.Join(resources, "\n- ") + "\n"
	}
	objects = len(files)
	if withKustomization {
		objects--
	}
	return writeTree(b, files), objects
}

// BenchmarkRender renders the benchmark's Stack (bench/harness.Mixed) of
// 1,000 and 5,000 objects, without and with a kustomization.yaml, with the
// Stack's usual options: a target namespace (the Namespaces left out, as
// kustomize would rename them all to it), common labels and substitution. Profile with -cpuprofile; see docs/design/render-fast-path.md.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, k := range []bool{false, true} {
			for _, opts := range []bool{false, true} {
				for _, path := range []string{"default", "kustomize"} {
					name := fmt.Sprintf("objects=%d/kustomization=%t/options=%t/path=%s", n, k, opts, path)
					b.Run(name, func(b *testing.B) {
						root, objects := mixedTree(b, n, k, opts)
						o := Options{Root: root, Path: "stack", kustomizeOnly: path == "kustomize"}
						if opts {
							o.TargetNamespace = "tenant"
							o.CommonLabels = map[string]string{"team": "payments"}
							o.Substitute = map[string]string{"CLUSTER": "production-east"}
						}
						b.ReportAllocs()
						start := processCPU(b)
						for b.Loop() {
							objs, err := Build(context.Background(), o)
							if err != nil {
								b.Fatal(err)
							}
							if len(objs) != objects {
								b.Fatalf("got %d objects, want %d", len(objs), objects)
							}
						}
						// CPU time, unlike ns/op, does not grow when other
						// processes share the machine.
						b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
					})
				}
			}
		}
	}
}

// processCPU is the CPU time the process has used, user and system, in
// nanoseconds.
func processCPU(b *testing.B) int64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

package render_test

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/flotilla-io/flotilla/internal/render"
)

// Render a cluster's overlay of a fleet repository, as the agent does, with
// the Stack's target namespace, common labels and an image override.
func ExampleBuild() {
	root, _ := filepath.Abs("testdata/fleet")
	objs, err := render.Build(context.Background(), render.Options{
		Root:            root,
		Path:            "clusters/prod",
		TargetNamespace: "shop",
		CommonLabels:    map[string]string{"flotilla.io/stack": "shop"},
		Images:          []render.Image{{Name: "nginx", NewTag: "1.28"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range objs {
		fmt.Println(o.GetKind(), o.GetNamespace(), o.GetName(), o.GetLabels())
	}
	// Output:
	// Deployment shop web map[flotilla.io/stack:shop]
	// Service shop web map[flotilla.io/stack:shop]
}

// A render that fails says where (file and line) and what to do.
func ExampleBuild_refused() {
	root, _ := filepath.Abs("testdata/missing-resource")
	_, err := render.Build(context.Background(), render.Options{Root: root})
	fmt.Println(err)
	// Output:
	// render kustomization.yaml:3: not found: resources entry "missing.yaml": missing.yaml does not exist in the artifact: fix the path, or add the file
}

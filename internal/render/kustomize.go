package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// kustomizeOptions are the only options Flotilla runs kustomize with: no
// plugins but the builtins, hence no exec or container functions and no Helm;
// loads outside a kustomization's directory are allowed (bases in ../ are
// normal in fleet repositories) because the file system holds nothing but
// the artifact.
func kustomizeOptions() *krusty.Options {
	return &krusty.Options{
		Reorder:           krusty.ReorderOptionNone,
		AddManagedbyLabel: false,
		LoadRestrictions:  types.LoadRestrictionsNone,
		PluginConfig:      types.DisabledPluginConfig(),
	}
}

// runKustomize builds dir of fs under the build gate: shared, or alone when
// the tree sets a custom OpenAPI schema (exclusive). Kustomize cannot be
// interrupted: when ctx ends first, Build returns at once and the abandoned
// run keeps its slot until it finishes, so a runaway build holds one slot
// and the other Stacks build in the others.
func runKustomize(ctx context.Context, fs filesys.FileSystem, dir string, exclusive bool) (resmap.ResMap, error) {
	release, err := gate.acquire(ctx, exclusive)
	if err != nil {
		return nil, err
	}
	type result struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer release()
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("kustomize panicked: %v", p)}
			}
		}()
		if exclusive {
			// kustomize keeps a custom schema after the build that set it, and
			// a later build without openapi: would merge with it (lists
			// replaced instead of merged): start and end with the default.
			openapi.ResetOpenAPI()
			defer openapi.ResetOpenAPI()
		}
		m, err := krusty.MakeKustomizer(kustomizeOptions()).Run(fs, dir)
		done <- result{m: m, err: err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// kustomizeError wraps a failure of kustomize itself. Its message is
// kustomize's, with in-memory paths made relative to the artifact root and
// every known secret value masked.
func kustomizeError(dir string, err error, r *redact.Redactor) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Path: dir, Err: err}
	}
	msg := summarizeObjects(kustomizeNoise.ReplaceAllString(err.Error(), ""))
	msg = strings.ReplaceAll(msg, overlayDir+"/", overlayName+"/")
	msg = strings.ReplaceAll(msg, overlayDir, overlayName)
	msg = strings.ReplaceAll(msg, "../"+strings.TrimPrefix(artifactDir, "/")+"/", "")
	msg = strings.ReplaceAll(msg, artifactDir+"/", "")
	msg = strings.ReplaceAll(msg, artifactDir, ".")
	msg = r.String(msg)
	if strings.Contains(msg, "already registered id") || strings.Contains(msg, "ID conflict") {
		return &Error{Path: dir, Err: fmt.Errorf("%w: %w: %s: two objects share kind, namespace and name: remove one, or give them different names", ErrKustomize, ErrDuplicate, msg)}
	}
	if strings.Contains(msg, "number of previous names") {
		msg += ": an object's kind, name or namespace holds a comma, and kustomize cannot record its earlier id when it renames it or moves it to another namespace: remove the comma"
	}
	return &Error{Path: dir, Err: fmt.Errorf("%w: %s", ErrKustomize, msg)}
}

// kustomizeNoise matches what kustomize adds to a message when it tries a
// resources entry both as a file and as a directory: the failure of the
// attempt that did not apply.
var kustomizeNoise = regexp.MustCompile(`accumulation err='accumulating resources from '[^']*': cannot read content from non-file '[^']*'': |: must build at directory: '[^']*': file is not directory`)

// redactor masks the substitution values and the secret values the guard
// found, for messages about objects after substitution.
func (g *guard) redactor(o Options) *redact.Redactor {
	values := slices.Collect(maps.Values(o.Substitute))
	return redact.New(append(values, g.secrets...)...)
}

// artifactRedactor masks the secret values the guard found, for messages
// of kustomize and of the steps before substitution. Those see the
// artifact and the Stack's options, never a substitution value (values are
// substituted in kustomize's output), so masking the values there would
// only blank words that hold one by chance: "prod" in "produces".
func (g *guard) artifactRedactor() *redact.Redactor {
	return redact.New(g.secrets...)
}

// summarizeObjects replaces every JSON object that kustomize dumps into a
// message (some of its messages print whole resources, Secrets included)
// with the object's kind, namespace and name.
func summarizeObjects(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, `{"`)
		if i < 0 {
			return b.String() + msg
		}
		b.WriteString(msg[:i])
		dec := json.NewDecoder(strings.NewReader(msg[i:]))
		var obj map[string]interface{}
		if dec.Decode(&obj) != nil {
			b.WriteString(`{"`)
			msg = msg[i+2:]
			continue
		}
		end := i + int(dec.InputOffset())
		if u := (unstructured.Unstructured{Object: obj}); u.GetKind() != "" {
			b.WriteString("<" + objectName(u.GetKind(), u.GetNamespace(), u.GetName()) + ">")
		} else {
			b.WriteString(msg[i:end])
		}
		msg = msg[end:]
	}
}

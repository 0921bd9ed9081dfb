package apply_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// env is the control plane every test of the package shares.
var env *controlplane.Env

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env))
}

// stackNamespace is the namespace of the Stacks the tests pose as; it only
// appears in owner labels and need not exist.
const stackNamespace = "flotilla-system"

var (
	fixtureCount atomic.Int32
	notDNS       = regexp.MustCompile(`[^a-z0-9]+`)
)

// fixture is one test's view of the control plane: a live client and
// names no other test uses.
type fixture struct {
	t *testing.T
	// live reads and writes without going through the engine.
	live client.WithWatch
	// Namespace is unique to the test and does not exist until created.
	Namespace string
	// Group is an API group unique to the test, for its CRDs.
	Group string
}

// newFixture requires the control plane and returns names unique to t.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	controlplane.Require(t, env)
	c, err := client.NewWithWatch(env.Config, client.Options{Scheme: v1alpha1.NewScheme()})
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	slug := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(strings.TrimPrefix(t.Name(), "Test")), "-"), "-")
	slug = strings.TrimRight(slug[:min(len(slug), 50)], "-")
	name := fmt.Sprintf("%s-%d", slug, fixtureCount.Add(1))
	return &fixture{t: t, live: c, Namespace: name, Group: name + ".apply.flotilla.test"}
}

// manager returns an engine that acts for Stack flotilla-system/owner
// through an uncached client, as the agent does.
func (f *fixture) manager(owner string, mutate ...func(*apply.Options)) *apply.Manager {
	return apply.NewManager(f.live, f.options(owner, mutate...))
}

func (f *fixture) options(owner string, mutate ...func(*apply.Options)) apply.Options {
	opts := apply.DefaultOptions()
	opts.OwnerName, opts.OwnerNamespace = owner, stackNamespace
	opts.Poll = 100 * time.Millisecond
	opts.CRDTimeout = 30 * time.Second
	for _, fn := range mutate {
		fn(&opts)
	}
	return opts
}

// createNamespace creates the test's namespace outside the engine.
func (f *fixture) createNamespace() {
	f.t.Helper()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(f.Namespace)
	if err := f.live.Create(context.Background(), ns); err != nil {
		f.t.Fatalf("creating namespace %s: %v", f.Namespace, err)
	}
}

// load reads testdata/name, a multi-document YAML file, with ${NAMESPACE},
// ${GROUP} and the given variables expanded.
func (f *fixture) load(name string, vars ...string) []*unstructured.Unstructured {
	f.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatal(err)
	}
	values := map[string]string{"NAMESPACE": f.Namespace, "GROUP": f.Group}
	for i := 0; i+1 < len(vars); i += 2 {
		values[vars[i]] = vars[i+1]
	}
	var missing []string
	text := os.Expand(string(raw), func(v string) string {
		value, ok := values[v]
		if !ok {
			missing = append(missing, v)
		}
		return value
	})
	if len(missing) > 0 {
		f.t.Fatalf("testdata/%s: no value for %v", name, missing)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			f.t.Fatalf("testdata/%s: %v", name, err)
		}
		if len(obj) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
	return objs
}

// get reads an object live; it fails the test unless the object exists.
func (f *fixture) get(m apply.ObjMetadata) *unstructured.Unstructured {
	f.t.Helper()
	u := m.Unstructured()
	if err := f.live.Get(context.Background(), client.ObjectKeyFromObject(u), u); err != nil {
		f.t.Fatalf("reading %s: %v", m, err)
	}
	return u
}

// exists reports whether an object exists, and whether it is being deleted.
func (f *fixture) exists(m apply.ObjMetadata) (exists, terminating bool) {
	f.t.Helper()
	u := m.Unstructured()
	err := f.live.Get(context.Background(), client.ObjectKeyFromObject(u), u)
	switch {
	case apierrors.IsNotFound(err):
		return false, false
	case err != nil:
		f.t.Fatalf("reading %s: %v", m, err)
	}
	return true, u.GetDeletionTimestamp() != nil
}

// mustApply applies objs and fails the test on an error.
func mustApply(t *testing.T, m *apply.Manager, objs []*unstructured.Unstructured) apply.ChangeSet {
	t.Helper()
	cs, err := m.Apply(context.Background(), objs)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return cs
}

// concat joins object lists in order.
func concat(lists ...[]*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// metadataOf returns the identities of objs, in order.
func metadataOf(objs []*unstructured.Unstructured) []apply.ObjMetadata {
	out := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		out = append(out, apply.MetadataOf(o))
	}
	return out
}

// actions maps each object of a change set, by String, to its action.
func actions(cs apply.ChangeSet) map[string]apply.Action {
	out := map[string]apply.Action{}
	for _, c := range cs.Changes {
		out[c.Object.String()] = c.Action
	}
	return out
}

// validationFailures returns the failures of a *ValidationError by object
// (String), failing the test when err is not one.
func validationFailures(t *testing.T, err error) map[string]*apply.ObjectError {
	t.Helper()
	var ve *apply.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *apply.ValidationError, got %T: %v", err, err)
	}
	out := map[string]*apply.ObjectError{}
	for _, f := range ve.Failures {
		out[f.Object.String()] = f
	}
	return out
}

// writeLog records the writes (not dry-runs) a client sends, in order, as
// "verb Kind/namespace/name".
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeLog) add(verb string, obj interface {
	GetKind() string
	GetNamespace() string
	GetName() string
}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := apply.ObjMetadata{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	w.writes = append(w.writes, verb+" "+m.String())
}

// Writes returns the writes so far.
func (w *writeLog) Writes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// recordingManager returns an engine like manager's whose writes are logged.
func (f *fixture) recordingManager(owner string, mutate ...func(*apply.Options)) (*apply.Manager, *writeLog) {
	log := &writeLog{}
	type named interface {
		GetKind() string
		GetNamespace() string
		GetName() string
	}
	kindOf := func(c client.WithWatch, obj client.Object) named {
		u := &unstructured.Unstructured{}
		u.SetNamespace(obj.GetNamespace())
		u.SetName(obj.GetName())
		if gvk, err := c.GroupVersionKindFor(obj); err == nil {
			u.SetGroupVersionKind(gvk)
		}
		return u
	}
	c := interceptor.NewClient(f.live, interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if o := (&client.ApplyOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				if n, ok := obj.(named); ok {
					log.add("apply", n)
				} else {
					log.add("apply", &unstructured.Unstructured{})
				}
			}
			return c.Apply(ctx, obj, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if o := (&client.CreateOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				log.add("create", kindOf(c, obj))
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if o := (&client.UpdateOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				log.add("update", kindOf(c, obj))
			}
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if o := (&client.PatchOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				log.add("patch", kindOf(c, obj))
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if o := (&client.DeleteOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				log.add("delete", kindOf(c, obj))
			}
			return c.Delete(ctx, obj, opts...)
		},
	})
	return apply.NewManager(c, f.options(owner, mutate...)), log
}

// eventually polls cond every 100ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sortByKey makes cmp compare lists of objects as sets.
var sortByKey = cmpopts.SortSlices(func(a, b apply.ObjMetadata) bool { return a.Key() < b.Key() })

// grant creates RBAC objects (a Role and its RoleBinding to user) outside
// the engine.
func (f *fixture) grant(user string, rbac []*unstructured.Unstructured) {
	f.t.Helper()
	for _, o := range rbac {
		if err := f.live.Create(context.Background(), o); err != nil {
			f.t.Fatalf("granting %s: %v", user, err)
		}
	}
}

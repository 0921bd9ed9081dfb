package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
)

// appsStack is a Stack "apps" of path apps that reads the fleet repository.
func appsStack(edit ...func(*v1alpha1.Stack)) *v1alpha1.Stack {
	st := &v1alpha1.Stack{}
	st.Name, st.Namespace = "apps", DefaultNamespace
	st.Spec.SourceRef = v1alpha1.SourceReference{Kind: "GitRepository", Name: DefaultSource}
	st.Spec.Path, st.Spec.Prune = "apps", true
	for _, e := range edit {
		e(st)
	}
	return st
}

// rendered is a side of st that rendered objs under key.
func rendered(t *testing.T, st *v1alpha1.Stack, key string, docs ...string) side {
	t.Helper()
	sd := side{stack: st, red: redact.New(), job: job{key: key}, objs: []*unstructured.Unstructured{}}
	for _, d := range docs {
		sd.objs = append(sd.objs, obj(t, d))
	}
	return sd
}

const (
	cmA    = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\ndata: {k: '1'}\n"
	cmA2   = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\ndata: {k: '2'}\n"
	nsApps = "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n"
	webV1  = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec: {selector: {matchLabels: {app: web}}}\n"
	webV2  = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\nspec: {selector: {matchLabels: {app: web2}}}\n"
)

var (
	refCMA   = ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "a"}
	refNS    = ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"}
	refWeb   = ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}
	noRefs   = []ObjectRef{}
	noChange = []ObjectChange{}
)

// TestPlannerAdd goes through each state a Stack can be in at the two
// revisions, and checks the StackPlan and the warnings it gives.
func TestPlannerAdd(t *testing.T) {
	failedErr := &render.Error{Path: "apps/kustomization.yaml", Line: 4, Err: errors.New("bad patch")}
	for _, tc := range []struct {
		name     string
		b, h     side
		want     StackPlan
		warnings []Warning
		failures []Failure
	}{
		{
			name: "a removed Stack prunes what its base rendered",
			b:    rendered(t, appsStack(), "k", cmA, nsApps),
			want: StackPlan{Status: StackRemoved, Added: noRefs, Changed: noChange, Removed: []ObjectRef{refCMA, refNS}},
			warnings: []Warning{
				{Kind: WarnPrune, Object: "ConfigMap apps/a", Message: "will be deleted (pruned)"},
				{Kind: WarnNamespace, Object: "Namespace apps", Message: "will be deleted, with every object in it"},
			},
		},
		{
			name: "a removed Stack whose base does not render lists nothing",
			b:    side{stack: appsStack(), status: StackFailed, reason: "broken"},
			want: StackPlan{Status: StackRemoved, Added: noRefs, Changed: noChange, Removed: noRefs},
		},
		{
			name:     "a Stack that fails at head is a failure located in its file",
			b:        rendered(t, appsStack(), "k", cmA),
			h:        side{stack: appsStack(), status: StackFailed, reason: "bad patch", err: failedErr},
			want:     StackPlan{Status: StackFailed, Reason: "bad patch", Added: noRefs, Changed: noChange, Removed: noRefs},
			failures: []Failure{{Cluster: "prod", Stack: "apps", Path: "apps/kustomization.yaml", Line: 4, Message: "bad patch"}},
		},
		{
			name:     "a Stack that cannot be planned is warned about",
			h:        side{stack: appsStack(), status: StackCannotPlan, reason: "variables come from the cluster: ConfigMap vars not found"},
			want:     StackPlan{Status: StackCannotPlan, Reason: "variables come from the cluster: ConfigMap vars not found", Added: noRefs, Changed: noChange, Removed: noRefs},
			warnings: []Warning{{Kind: WarnCannotPlan, Message: "cannot plan: variables come from the cluster: ConfigMap vars not found"}},
		},
		{
			name: "a Stack of another source is listed, not warned about",
			h:    side{stack: appsStack(), status: StackNotPlanned, reason: "its source is another"},
			want: StackPlan{Status: StackNotPlanned, Reason: "its source is another", Added: noRefs, Changed: noChange, Removed: noRefs},
		},
		{
			name: "the same inputs are unchanged without a comparison",
			b:    rendered(t, appsStack(), "same", cmA),
			h:    rendered(t, appsStack(), "same", cmA2),
			want: StackPlan{Status: StackUnchanged, Added: noRefs, Changed: noChange, Removed: noRefs},
		},
		{
			name: "other inputs that render the same objects are unchanged",
			b:    rendered(t, appsStack(), "before", cmA),
			h:    rendered(t, appsStack(), "after", cmA),
			want: StackPlan{Status: StackUnchanged, Added: noRefs, Changed: noChange, Removed: noRefs},
		},
		{
			name: "a new Stack adds every object",
			h:    rendered(t, appsStack(), "k", cmA, nsApps),
			want: StackPlan{Status: StackAdded, Added: []ObjectRef{refCMA, refNS}, Changed: noChange, Removed: noRefs},
		},
		{
			name:     "a base that does not render: every object is added, with a warning",
			b:        side{stack: appsStack(), status: StackFailed, reason: "missing file"},
			h:        rendered(t, appsStack(), "k", cmA),
			want:     StackPlan{Status: StackChanged, Added: []ObjectRef{refCMA}, Changed: noChange, Removed: noRefs},
			warnings: []Warning{{Kind: WarnBaseFailure, Message: "the base revision does not render (missing file): every object is listed as added"}},
		},
		{
			name: "a removal with prune: false leaves an orphan",
			b:    rendered(t, appsStack(func(s *v1alpha1.Stack) { s.Spec.Prune = false }), "b", cmA, webV1),
			h:    rendered(t, appsStack(func(s *v1alpha1.Stack) { s.Spec.Prune = false }), "h", webV1),
			want: StackPlan{Status: StackChanged, Added: noRefs, Changed: noChange, Removed: []ObjectRef{refCMA}},
			warnings: []Warning{{Kind: WarnOrphan, Object: "ConfigMap apps/a",
				Message: "leaves Git but stays in the cluster (the Stack has prune: false): delete it by hand if it should go"}},
		},
		{
			name: "an immutable field that changes is warned about",
			b:    rendered(t, appsStack(), "b", webV1),
			h:    rendered(t, appsStack(), "h", webV2),
			want: StackPlan{Status: StackChanged, Added: noRefs, Removed: noRefs, Changed: []ObjectChange{{Object: refWeb, Fields: []FieldChange{
				{Path: "spec.selector.matchLabels.app", Op: FieldChanged, Before: `"web"`, After: `"web2"`}}}}},
			warnings: []Warning{{Kind: WarnImmutable, Object: "Deployment apps/web",
				Message: "immutable field changed (spec.selector.matchLabels.app): the apply will fail; set force: true on the Stack to recreate the object, or keep the field"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &planner{}
			cp := ClusterPlan{Name: "prod", Stacks: []StackPlan{}, Failures: []Failure{}, Warnings: []Warning{}}
			p.add(&cp, tc.b, tc.h)
			st := tc.h.stack
			if st == nil {
				st = tc.b.stack
			}
			tc.want.Name, tc.want.Namespace, tc.want.Path, tc.want.Prune = "apps", DefaultNamespace, "apps", st.Spec.Prune
			if diff := cmp.Diff([]StackPlan{tc.want}, cp.Stacks); diff != "" {
				t.Errorf("stack plan (-want +got):\n%s", diff)
			}
			for i := range tc.warnings {
				tc.warnings[i].Cluster, tc.warnings[i].Stack = "prod", "apps"
			}
			if diff := cmp.Diff(append([]Warning{}, tc.warnings...), cp.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(append([]Failure{}, tc.failures...), cp.Failures); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlannerAddOfAStackAtNeitherRevision(t *testing.T) {
	cp := ClusterPlan{Name: "prod"}
	(&planner{}).add(&cp, side{}, side{})
	if len(cp.Stacks) != 0 || len(cp.Warnings) != 0 {
		t.Errorf("a Stack at neither revision was planned: %+v", cp)
	}
}

// The values of variables read from Secrets at either revision are masked
// in every field the plan shows.
func TestCompareSidesMasksTheSecretVariablesOfBothRevisions(t *testing.T) {
	b := rendered(t, appsStack(), "b", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\ndata: {url: 'https://old-token@git', conf: \"x\\nold-token\\n\"}\n")
	h := rendered(t, appsStack(), "h", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\ndata: {url: 'https://new-token@git', conf: \"y\\nnew-token\\n\"}\n")
	b.red.Add("old-token")
	h.red.Add("new-token")
	var sp StackPlan
	sw := stackWarner{cluster: "prod", stack: "apps"}
	(&planner{}).compareSides(&sp, &sw, b, h)
	if len(sp.Changed) != 1 {
		t.Fatalf("changed = %+v, want the ConfigMap", sp.Changed)
	}
	var shown strings.Builder
	for _, f := range sp.Changed[0].Fields {
		shown.WriteString(f.Before + f.After + strings.Join(f.Lines, ""))
	}
	for _, secret := range []string{"old-token", "new-token"} {
		if strings.Contains(shown.String(), secret) {
			t.Errorf("the plan shows the secret %q: %s", secret, shown.String())
		}
	}
	if !strings.Contains(shown.String(), "https://") {
		t.Errorf("the plan hides more than the secret: %s", shown.String())
	}
}

func TestPrepareStack(t *testing.T) {
	s := snapshotOf("apps/kustomization.yaml")
	p := &planner{o: Options{}.withDefaults(), r: newRenderer(t.TempDir())}
	t.Run("another source is not planned", func(t *testing.T) {
		st := appsStack(func(s *v1alpha1.Stack) { s.Spec.SourceRef.Name = "charts" })
		sd := p.prepareStack(t.Context(), s, st, nil)
		want := "its source is GitRepository charts, not the GitRepository flotilla-system/fleet of this repository"
		if sd.status != StackNotPlanned || sd.reason != want {
			t.Errorf("status %q, reason %q; want not-planned, %q", sd.status, sd.reason, want)
		}
	})
	t.Run("variables from a ConfigMap of the cluster", func(t *testing.T) {
		st := appsStack(func(s *v1alpha1.Stack) {
			s.Spec.PostBuild = &v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "ConfigMap", Name: "cluster-vars"}}}
		})
		sd := p.prepareStack(t.Context(), s, st, nil)
		if sd.status != StackCannotPlan || !strings.HasPrefix(sd.reason, "variables come from the cluster: ") || !strings.Contains(sd.reason, "cluster-vars") {
			t.Errorf("status %q, reason %q; want cannot-plan naming cluster-vars", sd.status, sd.reason)
		}
	})
	t.Run("variables from a ConfigMap of the repository", func(t *testing.T) {
		st := appsStack(func(s *v1alpha1.Stack) {
			s.Spec.PostBuild = &v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "ConfigMap", Name: "cluster-vars"}}}
		})
		root := []*unstructured.Unstructured{obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cluster-vars, namespace: flotilla-system}\ndata: {REGION: eu}\n")}
		sd := p.prepareStack(t.Context(), s, st, root)
		if !sd.ok() || sd.job.opts.Substitute["REGION"] != "eu" || sd.job.shared == nil {
			t.Errorf("status %q %s, substitute %v: want a shared render with REGION=eu", sd.status, sd.reason, sd.job.opts.Substitute)
		}
	})
	t.Run("decryption without keys gets an empty key set", func(t *testing.T) {
		st := appsStack(func(s *v1alpha1.Stack) {
			s.Spec.Decryption = &v1alpha1.Decryption{Provider: "sops"}
		})
		sd := p.prepareStack(t.Context(), s, st, nil)
		keys, _ := sd.job.opts.Decryption.(*decrypt.Keys)
		if !sd.ok() || keys == nil || !keys.Empty() {
			t.Errorf("decryption keys %v: want an empty set, so encrypted files fail as in the agent", sd.job.opts.Decryption)
		}
	})
	if sd := p.prepareStack(t.Context(), s, nil, nil); sd.stack != nil || sd.ok() {
		t.Errorf("a Stack absent at a revision prepared %+v", sd)
	}
}

func TestPlanRefusesWhatStopsIt(t *testing.T) {
	s := snapshotOf("clusters/prod/kustomization.yaml")
	if _, err := Plan(t.Context(), Options{Head: s}); err == nil || err.Error() != "fleet.Plan needs a base and a head snapshot" {
		t.Errorf("Plan without a base: %v", err)
	}
	o := DefaultOptions(s, s)
	o.TempDir = filepath.Join(t.TempDir(), "missing")
	if _, err := Plan(t.Context(), o); err == nil || !strings.Contains(err.Error(), "creating a temporary directory for the renders") {
		t.Errorf("Plan with a missing temporary directory: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o.TempDir = t.TempDir()
	if _, err := Plan(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("Plan of a cancelled context: %v, want context.Canceled", err)
	}
	if left, _ := os.ReadDir(o.TempDir); len(left) != 0 {
		t.Errorf("Plan left %d entries in its temporary directory", len(left))
	}
}

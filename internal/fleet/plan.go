package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// DefaultWarnClusters is how many clusters a change may reach before the
// plan warns about its reach.
const DefaultWarnClusters = 10

// Options say what to plan.
type Options struct {
	// Base and Head are the two revisions; Head is usually the working tree.
	Base, Head *Snapshot
	// BaseRevision and HeadRevision describe them in the Result.
	BaseRevision, HeadRevision Revision
	// Source is the GitRepository that serves this repository in the
	// clusters; the zero value is flotilla-system/fleet.
	Source SourceRef
	// WarnClusters: a change reaching more clusters than this is warned
	// about; 0 is DefaultWarnClusters, a negative value never warns.
	WarnClusters int
	// Parallelism is how many clusters are planned at once; 0 is GOMAXPROCS.
	Parallelism int
	// TempDir is where inputs are written for the render engine; "" is the
	// system's temporary directory. Plan cleans up after itself.
	TempDir string
	// Decryption holds the keys for the Stacks with spec.decryption (the
	// agent reads them from a Secret of the cluster); nil means none, and
	// their encrypted files cannot be planned.
	Decryption *decrypt.Keys

	// exhaustive turns every shortcut off, for the tests that check them:
	// every Stack is rendered at both revisions, from the whole tree, with
	// no cache and no shared render.
	exhaustive bool
}

// DefaultOptions returns Options with the defaults filled in, for base and head.
func DefaultOptions(base, head *Snapshot) Options {
	return Options{
		Base: base, Head: head,
		BaseRevision: Revision{Name: base.Name}, HeadRevision: Revision{Name: head.Name},
		Source:       SourceRef{Namespace: DefaultNamespace, Name: DefaultSource},
		WarnClusters: DefaultWarnClusters,
	}
}

// planner holds one plan's shared state.
type planner struct {
	o Options
	r *renderer
}

// Plan renders every Stack of every cluster at both revisions and compares
// them. A render that fails at head is reported in the Result, not returned
// as an error: the other clusters are still planned. The error is for what
// stops the whole plan (ctx, the temporary directory).
func Plan(ctx context.Context, o Options) (*Result, error) {
	if o.Base == nil || o.Head == nil {
		return nil, errors.New("fleet.Plan needs a base and a head snapshot")
	}
	o = o.withDefaults()
	tmp, err := os.MkdirTemp(o.TempDir, "flotilla-plan-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary directory for the renders: %w", err)
	}
	defer os.RemoveAll(tmp)
	p := &planner{o: o, r: newRenderer(tmp)}
	p.r.exhaustive = o.exhaustive
	names := clusterNames(o.Base, o.Head)
	clusters := make([]ClusterPlan, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallelism)
	for i, name := range names {
		g.Go(func() error {
			clusters[i] = p.planCluster(gctx, name)
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := &Result{Base: o.BaseRevision, Head: o.HeadRevision, Clusters: clusters, Warnings: []Warning{}}
	res.Renders = RenderStats{Builds: p.r.builds.Load(), Reused: p.r.reused.Load(), Substituted: p.r.substituted.Load()}
	p.warnReach(res)
	return res, nil
}

func (o Options) withDefaults() Options {
	if o.Source == (SourceRef{}) {
		o.Source = SourceRef{Namespace: DefaultNamespace, Name: DefaultSource}
	}
	if o.WarnClusters == 0 {
		o.WarnClusters = DefaultWarnClusters
	}
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	return o
}

// clusterNames is every cluster of either revision, sorted.
func clusterNames(a, b *Snapshot) []string {
	set := map[string]bool{}
	for _, s := range []*Snapshot{a, b} {
		for _, n := range s.Clusters() {
			set[n] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// warnReach warns when the change reaches more clusters than allowed.
func (p *planner) warnReach(res *Result) {
	changed, _, failed := res.Count()
	if n := changed + failed; p.o.WarnClusters > 0 && n > p.o.WarnClusters {
		res.Warnings = append(res.Warnings, Warning{Kind: WarnWide,
			Message: fmt.Sprintf("this change reaches %d of %d clusters (more than %d): consider rolling it out in steps", n, len(res.Clusters), p.o.WarnClusters)})
	}
}

// side is one Stack at one revision.
type side struct {
	stack  *v1alpha1.Stack // nil: the Stack does not exist at this revision
	objs   []*unstructured.Unstructured
	red    *redact.Redactor
	status StackStatus // "" when rendered; StackFailed, StackNotPlanned or StackCannotPlan
	reason string
	err    error
	job    job
}

func (s side) ok() bool { return s.stack != nil && s.status == "" }

// unchanged says whether both sides render the same inputs with the same
// options: then neither needs rendering.
func (p *planner) unchanged(b, h side) bool {
	return !p.o.exhaustive && b.ok() && h.ok() && b.job.key == h.job.key
}

// planCluster plans the root of a cluster, then each of its Stacks.
func (p *planner) planCluster(ctx context.Context, name string) ClusterPlan {
	cp := ClusterPlan{Name: name, Stacks: []StackPlan{}, Failures: []Failure{}, Warnings: []Warning{}}
	base := p.renderRoot(ctx, p.o.Base, name)
	head := p.renderRoot(ctx, p.o.Head, name)
	p.add(&cp, base, head)
	baseStacks, berr := stacksOf(base.objs)
	headStacks, herr := stacksOf(head.objs)
	if herr != nil {
		cp.Failures = append(cp.Failures, Failure{Cluster: name, Stack: RootStack, Path: "clusters/" + name, Message: herr.Error()})
	}
	if berr != nil || herr != nil || head.status == StackFailed {
		cp.finish()
		return cp
	}
	for _, id := range orderStacks(headStacks, baseStacks) {
		b := p.prepareStack(ctx, p.o.Base, baseStacks[id], base.objs)
		h := p.prepareStack(ctx, p.o.Head, headStacks[id], head.objs)
		if !p.unchanged(b, h) {
			p.run(ctx, &b)
			p.run(ctx, &h)
		}
		p.add(&cp, b, h)
	}
	cp.finish()
	return cp
}

// renderRoot renders clusters/<name>, if the revision has it.
func (p *planner) renderRoot(ctx context.Context, s *Snapshot, name string) side {
	st := rootStack(name, p.o.Source)
	if !s.isDir(st.Spec.Path) {
		return side{}
	}
	sd := p.prepareStack(ctx, s, st, nil)
	p.run(ctx, &sd)
	return sd
}

// prepareStack readies the render of one Stack at one revision, with the
// variables the repository holds for it.
func (p *planner) prepareStack(ctx context.Context, s *Snapshot, st *v1alpha1.Stack, root []*unstructured.Unstructured) side {
	sd := side{stack: st, red: redact.New()}
	if st == nil {
		return side{}
	}
	if !readsSource(st, p.o.Source) {
		sd.status = StackNotPlanned
		sd.reason = fmt.Sprintf("its source is %s %s, not the GitRepository %s of this repository", st.Spec.SourceRef.Kind, st.Spec.SourceRef.Name, p.o.Source)
		return sd
	}
	vars, red, err := stackspec.Variables(ctx, newObjectReader(root), st)
	sd.red = red
	if err != nil {
		sd.status, sd.err = StackCannotPlan, err
		sd.reason = "variables come from the cluster: " + red.Error(err)
		return sd
	}
	opts := stackspec.RenderOptions(st, "", vars)
	if st.Spec.Decryption != nil {
		opts.Decryption = p.keys()
	}
	sd.job = p.r.prepare(s, opts)
	return sd
}

// run renders a prepared side.
func (p *planner) run(ctx context.Context, sd *side) {
	if !sd.ok() {
		return
	}
	sd.objs, sd.err = p.r.render(ctx, sd.job)
	sd.red.AddSecrets(sd.objs...)
	if sd.err != nil && !p.withoutKeys(sd) {
		sd.status, sd.reason = StackFailed, sd.red.Error(sd.err)
	}
}

// add compares the two sides of a Stack and records the result in cp.
func (p *planner) add(cp *ClusterPlan, b, h side) {
	st := h.stack
	if st == nil {
		st = b.stack
	}
	if st == nil {
		return
	}
	sp := StackPlan{Name: st.Name, Namespace: st.Namespace, Path: st.Spec.Path, Prune: st.Spec.Prune,
		Added: []ObjectRef{}, Changed: []ObjectChange{}, Removed: []ObjectRef{}}
	sw := stackWarner{cluster: cp.Name, stack: st.Name}
	switch {
	case h.stack == nil:
		sp.Status = StackRemoved
		if b.ok() {
			sp.Removed = compareObjects(b.objs, nil, nil).removed
			sw.removed(st, sp.Removed, 0)
		}
	case h.status == StackFailed:
		sp.Status, sp.Reason = StackFailed, h.reason
		cp.Failures = append(cp.Failures, failureOf(cp.Name, st.Name, h))
	case h.status != "":
		sp.Status, sp.Reason = h.status, h.reason
		if h.status == StackCannotPlan {
			sw.add(WarnCannotPlan, "", "cannot plan: "+h.reason)
		}
	case p.unchanged(b, h):
		sp.Status = StackUnchanged
	default:
		p.compareSides(&sp, &sw, b, h)
	}
	cp.Stacks = append(cp.Stacks, sp)
	cp.Warnings = append(cp.Warnings, sw.warnings...)
}

// compareSides fills sp with the differences of two rendered sides.
func (p *planner) compareSides(sp *StackPlan, sw *stackWarner, b, h side) {
	var before []*unstructured.Unstructured
	switch {
	case b.ok():
		before = b.objs
	case b.status == StackFailed:
		sw.add(WarnBaseFailure, "", "the base revision does not render ("+b.reason+"): every object is listed as added")
	}
	mask := func(s string) string { return h.red.String(b.red.String(s)) }
	c := compareObjects(before, h.objs, mask)
	sp.Added, sp.Changed, sp.Removed = c.added, c.changed, c.removed
	switch {
	case b.stack == nil:
		sp.Status = StackAdded
	case sp.HasChanges():
		sp.Status = StackChanged
	default:
		sp.Status = StackUnchanged
	}
	sw.removed(h.stack, c.removed, len(before))
	old := indexObjects(before)
	for _, ch := range c.changed {
		if fields := immutableChanges(old[ch.Object.key()], ch); len(fields) > 0 {
			sw.immutable(h.stack, ch.Object, fields)
		}
	}
}

// failureOf turns a render error into a Failure naming file and line.
func failureOf(cluster, stack string, s side) Failure {
	f := Failure{Cluster: cluster, Stack: stack, Path: s.stack.Spec.Path, Message: s.reason}
	var re *render.Error
	if errors.As(s.err, &re) && re.Path != "" {
		f.Path, f.Line = re.Path, re.Line
	}
	return f
}

// finish sets the cluster's status from its Stacks.
func (cp *ClusterPlan) finish() {
	cp.Status = ClusterUnchanged
	for _, s := range cp.Stacks {
		if s.HasChanges() || s.Status == StackAdded || s.Status == StackRemoved {
			cp.Status = ClusterChanged
		}
	}
	if len(cp.Failures) > 0 {
		cp.Status = ClusterFailed
	}
}

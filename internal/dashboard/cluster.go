package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Timing of a cluster's watcher.
const (
	// pingTimeout bounds one reachability probe.
	pingTimeout = 2 * time.Second
	// requestTimeout bounds the other requests: discovery, the probe of a
	// kind, the Stack page's reads, actions.
	requestTimeout = 10 * time.Second
	// kindRetry is how often a kind that could not be watched (forbidden,
	// CRD missing) is tried again.
	kindRetry = 30 * time.Second
	// agingInterval is how often the rows are recomputed without an
	// event, for the drift counts of the last hour.
	agingInterval = time.Minute
)

// scheme knows the core kinds and Flotilla's.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s)); err != nil {
		panic(err) // static registrations only
	}
	return s
}

// kind is one kind the watcher caches.
type kind struct {
	// plural names the kind in Cluster.Error.
	plural  string
	newObj  func() client.Object
	newList func() client.ObjectList
}

// Kinds the dashboard watches, by plural.
const (
	kindStacks        = "stacks"
	kindSources       = "gitrepositories"
	kindCanaries      = "canaries"
	kindImagePolicies = "imagepolicies"
	kindImageUpdates  = "imageupdates"
)

var watchedKinds = []kind{
	{kindStacks, func() client.Object { return &v1alpha1.Stack{} }, func() client.ObjectList { return &v1alpha1.StackList{} }},
	{kindSources, func() client.Object { return &v1alpha1.GitRepository{} }, func() client.ObjectList { return &v1alpha1.GitRepositoryList{} }},
	{kindCanaries, func() client.Object { return &v1alpha1.Canary{} }, func() client.ObjectList { return &v1alpha1.CanaryList{} }},
	{kindImagePolicies, func() client.Object { return &v1alpha1.ImagePolicy{} }, func() client.ObjectList { return &v1alpha1.ImagePolicyList{} }},
	{kindImageUpdates, func() client.Object { return &v1alpha1.ImageUpdate{} }, func() client.ObjectList { return &v1alpha1.ImageUpdateList{} }},
}

// watcherEnv is what a watcher shares with its server.
type watcherEnv struct {
	ping    time.Duration
	log     logr.Logger
	seq     *atomic.Uint64 // the fleet's version
	behind  func(revision, sourceRevision string) int
	changed func(cluster string)
	history *canaryHistory
}

// watcher keeps one cluster's informers and its row of the matrix.
type watcher struct {
	name   string
	server string
	env    watcherEnv
	cache  crcache.Cache
	// direct reads and writes without the cache, with requestTimeout.
	direct client.Client
	// readyz is the discovery REST client the probe uses.
	readyz rest.Interface

	mu     sync.Mutex
	state  Cluster
	probed bool // the probe answered or failed at least once
	// failures counts the probes failed in a row; a reachable cluster is
	// marked unreachable from unreachableAfter of them, so one slow
	// /readyz on a loaded API server does not flicker the whole row.
	failures  int
	pingErr   string
	kindErrs  map[string]string
	informers map[string]toolscache.ResourceEventHandlerRegistration
	tried     map[string]time.Time
}

func newWatcher(c ClusterConfig, env watcherEnv) (*watcher, error) {
	cfg := rest.CopyConfig(c.Config)
	short := rest.CopyConfig(cfg)
	short.Timeout = requestTimeout
	httpClient, err := rest.HTTPClientFor(short)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(short, httpClient)
	if err != nil {
		return nil, err
	}
	sch := scheme()
	w := &watcher{
		name: c.Name, server: serverURL(cfg.Host), env: env,
		kindErrs: map[string]string{}, informers: map[string]toolscache.ResourceEventHandlerRegistration{}, tried: map[string]time.Time{},
	}
	w.cache, err = crcache.New(cfg, crcache.Options{
		Scheme: sch, Mapper: mapper,
		DefaultTransform:         crcache.TransformStripManagedFields(),
		DefaultWatchErrorHandler: w.watchError,
	})
	if err != nil {
		return nil, err
	}
	if w.direct, err = client.New(short, client.Options{Scheme: sch, Mapper: mapper, HTTPClient: httpClient}); err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(short, httpClient)
	if err != nil {
		return nil, err
	}
	w.readyz = disc.RESTClient()
	w.state = Cluster{Name: c.Name, Server: w.server, Stacks: []StackRow{}}
	return w, nil
}

// serverURL is the API server's URL without user information.
func serverURL(host string) string {
	if i := strings.Index(host, "://"); i >= 0 {
		rest := host[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			return host[:i+3] + rest[at+1:]
		}
	}
	return host
}

// run probes the cluster every ping interval and starts the informers the
// user may list, until ctx ends.
func (w *watcher) run(ctx context.Context) {
	go func() {
		if err := w.cache.Start(ctx); err != nil {
			w.env.log.Error(err, "the cache of a cluster stopped", "cluster", w.name)
		}
	}()
	t := time.NewTicker(w.env.ping)
	defer t.Stop()
	lastRebuild := time.Now()
	for {
		reachable := w.probe(ctx)
		if reachable {
			w.startInformers(ctx)
		}
		if time.Since(lastRebuild) >= agingInterval {
			// drift records age out of the last hour without an event
			w.rebuildIfChanged()
			lastRebuild = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// unreachableAfter is how many probes in a row must fail before a cluster
// that answered is shown unreachable.
const unreachableAfter = 2

// probe asks /readyz and records the answer; a change of reachability
// rebuilds the cluster's state.
func (w *watcher) probe(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	err := w.readyz.Get().AbsPath("/readyz").Do(ctx).Error()
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	now := time.Now().UTC()
	w.mu.Lock()
	if w.failures++; err == nil {
		w.failures = 0
	} else if w.probed && w.state.Reachable && w.failures < unreachableAfter {
		w.mu.Unlock()
		return false
	}
	was, wasErr := w.state.Reachable, w.pingErr
	w.probed = true
	w.state.Reachable = err == nil
	w.pingErr = ""
	if err == nil {
		w.state.LastSeen = &now
	} else {
		w.pingErr = "unreachable: " + probeError(err)
	}
	changed := was != w.state.Reachable || wasErr != w.pingErr
	w.mu.Unlock()
	if changed {
		w.rebuild()
	}
	return err == nil
}

// probeError says briefly why the probe failed.
func probeError(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the API server did not answer /readyz within %s", pingTimeout)
	case apierrors.IsUnauthorized(err):
		return "the API server refused the credentials (401)"
	}
	return err.Error()
}

// startInformers starts the informer of every kind not started yet, after
// a List of one object shows the user may list it; a kind that is
// forbidden or has no CRD is named in the cluster's error, and tried
// again every kindRetry.
func (w *watcher) startInformers(ctx context.Context) {
	changed := false
	for _, k := range watchedKinds {
		w.mu.Lock()
		_, started := w.informers[k.plural]
		due := time.Since(w.tried[k.plural]) >= kindRetry
		w.mu.Unlock()
		if started || !due {
			continue
		}
		inf, err := w.startInformer(ctx, k)
		if err == nil {
			go w.rebuildWhenSynced(ctx, inf)
		}
		w.mu.Lock()
		w.tried[k.plural] = time.Now()
		old := w.kindErrs[k.plural]
		if err != nil {
			w.kindErrs[k.plural] = err.Error()
		} else {
			delete(w.kindErrs, k.plural)
			w.informers[k.plural] = inf
		}
		changed = changed || old != w.kindErrs[k.plural]
		w.mu.Unlock()
	}
	if changed {
		w.rebuild()
	}
}

// startInformer checks that the user may list kind k, then starts its
// informer without waiting for it to sync.
func (w *watcher) startInformer(ctx context.Context, k kind) (toolscache.ResourceEventHandlerRegistration, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if err := w.direct.List(ctx, k.newList(), client.Limit(1)); err != nil {
		return nil, kindError(k.plural, err)
	}
	inf, err := w.cache.GetInformer(ctx, k.newObj(), crcache.BlockUntilSynced(false))
	if err != nil {
		return nil, kindError(k.plural, err)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.event(k.plural, obj, false) },
		UpdateFunc: func(_, obj any) { w.event(k.plural, obj, false) },
		DeleteFunc: func(obj any) { w.event(k.plural, obj, true) },
	})
	if err != nil {
		return nil, kindError(k.plural, err)
	}
	return reg, nil
}

// rebuildWhenSynced rebuilds the cluster's state once the informer's
// first list has reached the handler: the events of that list may come
// before the informer counts as synced, when list would still skip it.
func (w *watcher) rebuildWhenSynced(ctx context.Context, reg toolscache.ResourceEventHandlerRegistration) {
	if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		w.rebuild()
	}
}

// kindError says why a kind cannot be shown, in the words of Cluster.Error.
func kindError(plural string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: your RBAC does not let you list them", plural)
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return fmt.Errorf("%s: not installed: the cluster has no CRD for them", plural)
	}
	return fmt.Errorf("%s: %w", plural, err)
}

// watchError records a watch that fails after its informer started (RBAC
// withdrawn, the CRD deleted); the reflector retries by itself.
func (w *watcher) watchError(_ context.Context, r *toolscache.Reflector, err error) {
	w.env.log.V(1).Info("watch failed", "cluster", w.name, "type", r.TypeDescription(), "error", err.Error())
}

// event handles an informer's change: canaries record their weight, and
// the cluster's rows are rebuilt.
func (w *watcher) event(plural string, obj any, deleted bool) {
	if plural == kindCanaries {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if c, ok := obj.(*v1alpha1.Canary); ok {
			w.env.history.record(w.name, c, deleted)
		}
	}
	w.rebuild()
}

// rebuild recomputes the cluster's state from the caches and tells the
// hub, with a new version.
func (w *watcher) rebuild() { w.publish(w.rows(), true) }

// rebuildIfChanged publishes the cluster's state only when its rows
// changed: the periodic rebuild does not wake the browsers for nothing.
func (w *watcher) rebuildIfChanged() { w.publish(w.rows(), false) }

// clusterRows is what rebuild computes from the caches.
type clusterRows struct {
	stacks            []StackRow
	canaries, updates int
}

// rows reads the caches.
func (w *watcher) rows() clusterRows {
	ctx := context.Background()
	var stacks []v1alpha1.Stack
	var sources []v1alpha1.GitRepository
	var canaries, updates int
	if l := (&v1alpha1.StackList{}); w.list(ctx, kindStacks, l) {
		stacks = l.Items
	}
	if l := (&v1alpha1.GitRepositoryList{}); w.list(ctx, kindSources, l) {
		sources = l.Items
	}
	if l := (&v1alpha1.CanaryList{}); w.list(ctx, kindCanaries, l) {
		canaries = len(l.Items)
	}
	if l := (&v1alpha1.ImageUpdateList{}); w.list(ctx, kindImageUpdates, l) {
		updates = len(l.Items)
	}
	return clusterRows{stacks: stackRows(stacks, sources, w.env.behind, time.Now()), canaries: canaries, updates: updates}
}

// publish stores the rows with a new version and tells the hub; unless
// forced, only when they differ from the stored ones.
func (w *watcher) publish(r clusterRows, force bool) {
	w.mu.Lock()
	errs := w.errorLocked()
	same := reflect.DeepEqual(w.state.Stacks, r.stacks) && w.state.Canaries == r.canaries &&
		w.state.ImageUpdates == r.updates && w.state.Error == errs
	if same && !force {
		w.mu.Unlock()
		return
	}
	w.state.Stacks, w.state.Canaries, w.state.ImageUpdates, w.state.Error = r.stacks, r.canaries, r.updates, errs
	w.state.Version = w.env.seq.Add(1)
	w.mu.Unlock()
	w.env.changed(w.name)
}

// list reads a kind from the cache once its informer has synced; false
// when it is not watched or not synced yet (a List would wait for it).
func (w *watcher) list(ctx context.Context, plural string, l client.ObjectList) bool {
	w.mu.Lock()
	inf := w.informers[plural]
	w.mu.Unlock()
	if inf == nil || !inf.HasSynced() {
		return false
	}
	if err := w.cache.List(ctx, l); err != nil {
		w.env.log.Error(err, "reading the cache", "cluster", w.name, "kind", plural)
		return false
	}
	return true
}

// errorLocked joins the probe's error and the kinds' errors, in the order
// of watchedKinds.
func (w *watcher) errorLocked() string {
	var parts []string
	if w.pingErr != "" {
		parts = append(parts, w.pingErr)
	}
	for _, k := range watchedKinds {
		if e := w.kindErrs[k.plural]; e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, "; ")
}

// unreachable says whether the last probe failed; false before the first.
func (w *watcher) unreachable() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.probed && !w.state.Reachable
}

// snapshot returns a copy of the cluster's state.
func (w *watcher) snapshot() Cluster {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.state
	c.Stacks = slices.Clone(c.Stacks)
	if c.LastSeen != nil {
		t := *c.LastSeen
		c.LastSeen = &t
	}
	return c
}

// get reads an object of a watched kind from the cache once it synced,
// else from the API server while it answers.
func (w *watcher) get(ctx context.Context, plural string, key client.ObjectKey, obj client.Object) error {
	w.mu.Lock()
	inf := w.informers[plural]
	w.mu.Unlock()
	if inf != nil && inf.HasSynced() {
		return w.cache.Get(ctx, key, obj)
	}
	if w.unreachable() {
		return fmt.Errorf("%s %s: the cluster %s is unreachable", plural, key, w.name)
	}
	return w.direct.Get(ctx, key, obj)
}

// stackRows builds the matrix cells of a cluster, sorted by namespace and
// name.
func stackRows(stacks []v1alpha1.Stack, sources []v1alpha1.GitRepository, behind func(string, string) int, now time.Time) []StackRow {
	revisions := map[client.ObjectKey]string{}
	for _, src := range sources {
		if src.Status.Artifact != nil {
			revisions[client.ObjectKeyFromObject(&src)] = src.Status.Artifact.Revision
		}
	}
	rows := make([]StackRow, 0, len(stacks))
	for i := range stacks {
		st := &stacks[i]
		ns, name := st.SourceKey()
		rows = append(rows, stackRow(st, revisions[client.ObjectKey{Namespace: ns, Name: name}], behind, now))
	}
	slices.SortFunc(rows, func(a, b StackRow) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return rows
}

// stackRow is one Stack's cell.
func stackRow(st *v1alpha1.Stack, sourceRevision string, behind func(string, string) int, now time.Time) StackRow {
	r := StackRow{
		Namespace: st.Namespace, Name: st.Name, Ready: string(metav1.ConditionUnknown),
		Suspended: st.Spec.Suspend, Revision: st.Status.LastAppliedRevision, SourceRevision: sourceRevision,
		Objects: len(st.Status.Inventory), DriftLastHour: driftSince(st.Status.Drift, now.Add(-time.Hour)),
	}
	r.Behind = behind(r.Revision, r.SourceRevision)
	if c := meta.FindStatusCondition(st.Status.Conditions, v1alpha1.ReadyCondition); c != nil {
		r.Ready, r.Reason, r.Message = string(c.Status), c.Reason, c.Message
		t := c.LastTransitionTime.UTC()
		r.LastChange = &t
	}
	r.Reconciling = meta.IsStatusConditionTrue(st.Status.Conditions, v1alpha1.ReconcilingCondition)
	for _, d := range st.Spec.DependsOn {
		r.DependsOn = append(r.DependsOn, cmp.Or(d.Namespace, st.Namespace)+"/"+d.Name)
	}
	return r
}

// driftSince counts the drift records seen after since.
func driftSince(records []v1alpha1.DriftRecord, since time.Time) int {
	n := 0
	for _, d := range records {
		if d.Time.After(since) {
			n++
		}
	}
	return n
}

// statusError turns an API error into an HTTP status and message: the
// API server's own words for Forbidden and NotFound.
func statusError(err error) (int, string) {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		switch code := int(st.Status().Code); code {
		case http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
			return code, st.Status().Message
		}
	}
	return http.StatusBadGateway, err.Error()
}

package notify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// fleetRepo is a bare repository on the real Git server with a working
// tree to push from.
type fleetRepo struct {
	root *gitserver.Root
	wd   *gitserver.Workdir
}

func newFleetRepo(t *testing.T) *fleetRepo {
	t.Helper()
	root := gitserver.NewRoot(t)
	root.InitBare(t, "fleet")
	return &fleetRepo{root: root, wd: gitserver.NewWorkdir(t, root.Path("fleet"))}
}

// push commits files and pushes; it returns the revision.
func (r *fleetRepo) push(t *testing.T, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		r.wd.WriteFile(t, p, c)
	}
	sha := r.wd.Commit(t, "update")
	r.wd.Push(t, "main")
	return "main@sha1:" + sha
}

func configMapApp(ns, value string) map[string]string {
	return map[string]string{
		"apps/kustomization.yaml": "resources:\n- cm.yaml\n",
		"apps/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: " + ns + "\ndata:\n  value: " + value + "\n",
	}
}

func gitRepository(ns, url string, interval time.Duration) *v1alpha1.GitRepository {
	return &v1alpha1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
		Spec:       v1alpha1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: interval}},
	}
}

func stack(ns string) *v1alpha1.Stack {
	return &v1alpha1.Stack{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"},
		Spec: v1alpha1.StackSpec{
			SourceRef:     v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Path:          "apps",
			Interval:      metav1.Duration{Duration: time.Hour},
			RetryInterval: &metav1.Duration{Duration: time.Second},
			Timeout:       &metav1.Duration{Duration: 20 * time.Second},
			Prune:         true,
		},
	}
}

func provider(ns, name, typ, address, secretName string) *v1alpha1.Provider {
	p := &v1alpha1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.ProviderSpec{Type: typ, Address: address, Timeout: &metav1.Duration{Duration: time.Second}},
	}
	if secretName != "" {
		p.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: secretName}
	}
	return p
}

func alert(ns, name, providerName, severity string, sources ...v1alpha1.EventSourceReference) *v1alpha1.Alert {
	return &v1alpha1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.AlertSpec{
			ProviderRef:   v1alpha1.LocalObjectReference{Name: providerName},
			EventSources:  sources,
			EventSeverity: severity,
			EventMetadata: map[string]string{"cluster": "test"},
		},
	}
}

// requestReconcile sets the reconcile-requested-at annotation, as the CLI does.
func requestReconcile(t *testing.T, obj client.Object) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano))
	if err := env.Client.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}

func waitReady(t *testing.T, obj client.Object, pred func() error) {
	t.Helper()
	eventually(t, fmt.Sprintf("%T %s", obj, obj.GetName()), func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		return pred()
	})
}

func readyCondition(conds []metav1.Condition) error {
	c := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		return fmt.Errorf("not Ready: %+v", c)
	}
	return nil
}

func waitRequests(t *testing.T, s *standIn, n int) []received {
	t.Helper()
	eventually(t, fmt.Sprintf("%d requests at the stand-in", n), func() error {
		if got := len(s.requests()); got < n {
			return fmt.Errorf("%d requests", got)
		}
		return nil
	})
	return s.requests()
}

// A broken commit gives exactly one alert, its retries none, and the fix
// one resolved message; the commit statuses follow the same revisions.
// The Slack webhook URL and the GitHub token are secret markers: they
// must not appear in messages, events or status.
func TestBrokenCommitAlertsOnceAndTheFixResolves(t *testing.T) {
	ns := newNamespace(t)
	repo := newFleetRepo(t)
	good := repo.push(t, configMapApp(ns, "one"))
	slack := newStandIn(t, slackFormat)
	github := newStandIn(t, githubStatusFormat(testToken))
	create(t,
		secret(ns, "slack", map[string]string{"address": slack.URL(testHookPath)}),
		secret(ns, "github", map[string]string{"token": testToken}),
		provider(ns, "slack", "slack", "", "slack"),
		provider(ns, "github", "github", github.URL("/org/fleet"), "github"),
		alert(ns, "slack", "slack", "error", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"}),
		alert(ns, "github", "github", "error", v1alpha1.EventSourceReference{Kind: "Stack", Name: "apps"}),
	)
	src, st := gitRepository(ns, repo.root.FileURL("fleet"), time.Hour), stack(ns)
	create(t, src)
	waitReady(t, src, func() error { return artifactAt(src, good) })
	create(t, st)
	waitReady(t, st, func() error {
		if st.Status.LastAppliedRevision != good {
			return fmt.Errorf("at %q", st.Status.LastAppliedRevision)
		}
		return readyCondition(st.Status.Conditions)
	})

	broken := repo.push(t, map[string]string{"apps/kustomization.yaml": "resources:\n- missing.yaml\n"})
	requestReconcile(t, src)
	got := waitRequests(t, slack, 1)
	if c := attachmentColor(got[0]); c != "#a30200" || !strings.Contains(string(got[0].Body), shortSHA(broken)) {
		t.Errorf("failure message: colour %s, body %s; want the error colour and the broken revision", c, got[0].Body)
	}
	// The Stack retries every second; none of its retries alerts again.
	waitRetries(t, st, 3)
	if n := len(slack.requests()); n != 1 {
		t.Fatalf("%d Slack messages after the retries, want 1", n)
	}
	assertEpisode(t, ns, "slack", 1)

	fixed := repo.push(t, configMapApp(ns, "one")) // back to what is applied: the apply changes nothing
	requestReconcile(t, src)
	got = waitRequests(t, slack, 2)
	if c := attachmentColor(got[1]); c != "#2eb886" || !strings.Contains(string(got[1].Body), "recovered") {
		t.Errorf("resolved message: colour %s, body %s", c, got[1].Body)
	}
	statuses := waitRequests(t, github, 2)
	wantStatus := [][2]string{{"failure", commit(broken)}, {"success", commit(fixed)}}
	for i, w := range wantStatus {
		if statuses[i].Payload["state"] != w[0] || !strings.HasSuffix(statuses[i].Path, w[1]) {
			t.Errorf("commit status %d: %s on %s, want %s on %s", i, statuses[i].Payload["state"], statuses[i].Path, w[0], w[1])
		}
	}
	assertEpisode(t, ns, "slack", 0)
	time.Sleep(time.Second) // nothing more may come
	if n := len(slack.requests()); n != 2 {
		t.Errorf("%d Slack messages in all, want 2", n)
	}
	assertNoSecretAnywhere(t, ns, slack, github)
}

func attachmentColor(r received) string {
	a, _ := r.Payload["attachments"].([]any)
	if len(a) == 0 {
		return ""
	}
	c, _ := a[0].(map[string]any)["color"].(string)
	return c
}

func commit(revision string) string { return notify.CommitOf(revision) }

func shortSHA(revision string) string { return commit(revision)[:8] }

// waitRetries waits until the failing Stack has been reconciled n more
// times (its retries), read from the reconcile counter.
func waitRetries(t *testing.T, st *v1alpha1.Stack, n int) {
	t.Helper()
	start := failures(t)
	eventually(t, fmt.Sprintf("%d retries of the Stack", n), func() error {
		if got := failures(t) - start; got < float64(n) {
			return fmt.Errorf("%v retries", got)
		}
		return nil
	})
}

// failures counts failed Stack reconciles across the process.
func failures(t *testing.T) float64 {
	return metricValue(t, "flotilla_reconcile_total", map[string]string{"kind": "Stack", "result": "failure"})
}

func metricValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func assertEpisode(t *testing.T, ns, name string, open int) {
	t.Helper()
	var a v1alpha1.Alert
	eventually(t, fmt.Sprintf("%d open episodes in Alert %s", open, name), func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &a); err != nil {
			return err
		}
		if len(a.Status.Episodes) != open {
			return fmt.Errorf("%d episodes", len(a.Status.Episodes))
		}
		return nil
	})
}

// assertNoPending waits until the Alert records no message as pending.
func assertNoPending(t *testing.T, ns, name string) {
	t.Helper()
	var a v1alpha1.Alert
	eventually(t, fmt.Sprintf("no pending message in Alert %s", name), func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &a); err != nil {
			return err
		}
		if n := len(a.Status.Pending); n > 0 {
			return fmt.Errorf("%d pending messages", n)
		}
		return nil
	})
}

// assertNoSecretAnywhere greps what the stand-ins received, the events of
// the namespace and the status of every notification object for the
// markers (the webhook path and the token), in clear.
func assertNoSecretAnywhere(t *testing.T, ns string, standIns ...*standIn) {
	t.Helper()
	for _, s := range standIns {
		for _, r := range s.requests() {
			assertNoMarker(t, "delivered body", string(r.Body))
		}
	}
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		assertNoMarker(t, "event", e.Note)
	}
	for _, list := range []client.ObjectList{&v1alpha1.AlertList{}, &v1alpha1.ProviderList{}, &v1alpha1.ReceiverList{}} {
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(list)
		assertNoMarker(t, "status", string(b))
	}
}

// A provider that is down shows in the Alert's status and the metric, and
// holds up no reconcile: a GitRepository fetched meanwhile is Ready.
func TestProviderDownIsVisibleAndBlocksNothing(t *testing.T) {
	ns := newNamespace(t)
	down := newStandIn(t, genericFormat)
	down.hold = make(chan struct{}) // every request hangs past the Provider's 1s timeout
	t.Cleanup(func() { close(down.hold) })
	create(t,
		secret(ns, "hook", map[string]string{"address": down.URL(testHookPath), "token": testToken}),
		provider(ns, "down", "generic-hmac", "", "hook"),
		alert(ns, "down", "down", "error", v1alpha1.EventSourceReference{Kind: "GitRepository", Name: "*"}),
	)
	waitReady(t, &v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "down"}}, func() error { return nil })
	missing := gitRepository(ns, "file:///nonexistent/"+ns, time.Hour)
	create(t, missing)

	repo := newFleetRepo(t)
	rev := repo.push(t, configMapApp(ns, "one"))
	ok := gitRepository(ns, repo.root.FileURL("fleet"), time.Hour)
	ok.Name = "ok"
	create(t, ok)
	waitReady(t, ok, func() error {
		if ok.Status.Artifact == nil || ok.Status.Artifact.Revision != rev {
			return errors.New("no artifact yet")
		}
		return readyCondition(ok.Status.Conditions)
	})

	var a v1alpha1.Alert
	eventually(t, "the failed delivery in the Alert's status", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "down"}, &a); err != nil {
			return err
		}
		if d := a.Status.LastDelivery; d == nil || d.Succeeded || a.Status.FailedDeliveries < 1 {
			return fmt.Errorf("last delivery %+v, %d failed", d, a.Status.FailedDeliveries)
		}
		return nil
	})
	if d := a.Status.LastDelivery; d.Attempts != 3 || !strings.Contains(d.Error, "generic-hmac") {
		t.Errorf("last delivery %+v: want 3 attempts and an error naming the provider type", d)
	}
	if v := metricValue(t, "flotilla_notification_delivery_failing", map[string]string{"namespace": ns, "alert": "down"}); v != 1 {
		t.Errorf("flotilla_notification_delivery_failing = %v, want 1", v)
	}
	assertNoSecretAnywhere(t, ns, down)
}

// The open episodes live in the Alert's status: an engine that starts
// after another (an agent restart) neither alerts twice for a failure
// already sent nor loses its resolved message.
func TestEpisodesSurviveARestart(t *testing.T) {
	ns := newNamespace(t)
	sink := newStandIn(t, genericFormat)
	create(t,
		provider(ns, "sink", "generic", sink.URL("/events"), ""),
		alert(ns, "widgets", "sink", "error", v1alpha1.EventSourceReference{Kind: "Widget", Name: "w"}),
	)
	ev := notify.Event{Object: notify.ObjectRef{Kind: "Widget", Namespace: ns, Name: "w"}, Severity: notify.SeverityError,
		Reason: "Broken", Message: "widget w is broken", Time: time.Now()}

	first, stop := runEngine(t)
	first.Enqueue(ev)
	waitRequests(t, sink, 1)
	assertEpisode(t, ns, "widgets", 1)
	// The delivery is recorded after the send; a stop before that record
	// sends the message again on restart (at least once, by design).
	assertNoPending(t, ns, "widgets")
	stop()

	second, _ := runEngine(t)
	second.Enqueue(ev) // the same failure, seen again after the restart
	time.Sleep(500 * time.Millisecond)
	if n := len(sink.requests()); n != 1 {
		t.Fatalf("%d messages after the restart, want still 1", n)
	}
	ev.Severity, ev.Reason, ev.Message = notify.SeverityInfo, "Succeeded", "widget w works"
	second.Enqueue(ev)
	got := waitRequests(t, sink, 2)
	if got[1].Payload["kind"] != notify.KindResolved {
		t.Errorf("second message is %v, want resolved", got[1].Payload["kind"])
	}
	assertEpisode(t, ns, "widgets", 0)
}

// runEngine starts an engine of its own (not the agent's) on the control plane.
func runEngine(t *testing.T) (*notify.Engine, func()) {
	t.Helper()
	e := notify.NewEngine(env.Client, fastRetries())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Start(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return e, func() { cancel(); <-done }
}

// Misconfigured Alerts and Providers are Stalled with a message that names
// what to fix.
func TestMisconfigurationStalls(t *testing.T) {
	ns := newNamespace(t)
	bad := alert(ns, "bad-regexp", "nowhere", "error", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"})
	bad.Spec.ExclusionList = []string{"("}
	create(t,
		alert(ns, "no-provider", "nowhere", "error", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"}),
		bad,
		provider(ns, "no-secret", "slack", "", "absent"),
	)
	a1 := &v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-provider"}}
	a2 := &v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad-regexp"}}
	p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-secret"}}
	cases := []stalledCase{
		{a1, func() []metav1.Condition { return a1.Status.Conditions }, v1alpha1.ReasonProviderNotFound, "provider " + ns + "/nowhere not found"},
		{a2, func() []metav1.Condition { return a2.Status.Conditions }, v1alpha1.ReasonInvalidSpec, "spec.exclusionList[0]"},
		{p, func() []metav1.Condition { return p.Status.Conditions }, v1alpha1.ReasonSecretNotFound, "secret " + ns + "/absent"},
	}
	for _, tc := range cases {
		waitReady(t, tc.obj, func() error {
			c := meta.FindStatusCondition(tc.conds(), v1alpha1.StalledCondition)
			if c == nil || c.Reason != tc.reason || !strings.Contains(c.Message, tc.text) {
				return fmt.Errorf("stalled condition %+v, want reason %s mentioning %q", c, tc.reason, tc.text)
			}
			return nil
		})
	}
}

// stalledCase is an object that must end Stalled with reason, its message
// mentioning text.
type stalledCase struct {
	obj    client.Object
	conds  func() []metav1.Condition
	reason string
	text   string
}

// A value the Stack reads from a Secret and its render masks does not
// reach a message either: the API server's refusal quotes it, the Stack
// masks it, and the Alert sends the masked text.
func TestSecretValuesOfARenderNeverReachAMessage(t *testing.T) {
	ns := newNamespace(t)
	marker := "leak-marker-Q" + strings.ToLower(ns) // uppercase: an invalid object name
	repo := newFleetRepo(t)
	rev := repo.push(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- cm.yaml\n",
		"apps/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${TOKEN}\n  namespace: " + ns + "\ndata:\n  k: v\n",
	})
	sink := newStandIn(t, genericFormat)
	src := gitRepository(ns, repo.root.FileURL("fleet"), time.Hour)
	create(t,
		secret(ns, "vars", map[string]string{"TOKEN": marker}),
		provider(ns, "sink", "generic", sink.URL("/events"), ""),
		alert(ns, "all", "sink", "info", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"}),
		src,
	)
	waitReady(t, src, func() error { return artifactAt(src, rev) })
	st := stack(ns)
	st.Spec.PostBuild = &v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
	create(t, st)
	var failure received
	eventually(t, "the ValidationFailed message", func() error {
		for _, r := range sink.requests() {
			if r.Payload["reason"] == v1alpha1.ReasonValidationFailed {
				failure = r
				return nil
			}
		}
		return fmt.Errorf("%d messages, none ValidationFailed", len(sink.requests()))
	})
	if !strings.Contains(string(failure.Body), `ConfigMap \"*****\" is invalid`) {
		t.Errorf("the message should carry the server's refusal, masked: %s", failure.Body)
	}
	for _, r := range sink.requests() {
		for _, form := range []string{marker, base64.StdEncoding.EncodeToString([]byte(marker)), base64.RawStdEncoding.EncodeToString([]byte(marker))} {
			if strings.Contains(string(r.Body), form) {
				t.Errorf("a message holds the Secret's value (%q): %s", form, r.Body)
			}
		}
	}
}

// A failing Stack that waits for a dependency before it recovers (Ready
// turns Unknown meanwhile) and whose fix changes nothing in the cluster
// (a revert) still sends its resolved message: the shape of the demo.
func TestRevertAfterWaitingForADependencyResolves(t *testing.T) {
	ns := newNamespace(t)
	repo := newFleetRepo(t)
	files := configMapApp(ns, "one")
	files["base/kustomization.yaml"] = "resources:\n- cm.yaml\n"
	files["base/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n  namespace: " + ns + "\n"
	good := repo.push(t, files)
	sink := newStandIn(t, slackFormat)
	create(t,
		secret(ns, "slack", map[string]string{"address": sink.URL(testHookPath)}),
		provider(ns, "slack", "slack", "", "slack"),
		alert(ns, "slack", "slack", "error", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*"}),
	)
	src := gitRepository(ns, repo.root.FileURL("fleet"), time.Hour)
	create(t, src)
	waitReady(t, src, func() error { return artifactAt(src, good) })
	base, apps := stack(ns), stack(ns)
	base.Name, base.Spec.Path = "base", "base"
	apps.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "base"}}
	create(t, base, apps)
	waitReady(t, apps, func() error {
		if apps.Status.LastAppliedRevision != good {
			return fmt.Errorf("at %q", apps.Status.LastAppliedRevision)
		}
		return readyCondition(apps.Status.Conditions)
	})

	repo.push(t, map[string]string{"apps/kustomization.yaml": "resources:\n- cm.yaml\n- missing.yaml\n"})
	requestReconcile(t, src)
	waitRequests(t, sink, 1)
	repo.wd.Git(t, "revert", "--no-edit", "HEAD")
	repo.wd.Push(t, "main")
	requestReconcile(t, src)
	got := waitRequests(t, sink, 2)
	if c := attachmentColor(got[1]); c != "#2eb886" {
		t.Errorf("second message has colour %s, want the resolved one: %s", c, got[1].Body)
	}
}

// A message decided but not delivered when the agent stops (its Provider
// was down) is sent by the next agent: none is lost, none is sent twice.
func TestUndeliveredMessagesSurviveARestart(t *testing.T) {
	ns := newNamespace(t)
	sink := newStandIn(t, genericFormat)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	create(t,
		provider(ns, "sink", "generic", down.URL+"/events", ""),
		alert(ns, "widgets", "sink", "error", v1alpha1.EventSourceReference{Kind: "Widget", Name: "w"}),
	)
	ev := notify.Event{Object: notify.ObjectRef{Kind: "Widget", Namespace: ns, Name: "w"}, Severity: notify.SeverityError,
		Reason: "Broken", Message: "widget w is broken", Time: time.Now()}

	o := fastRetries()
	o.Attempts, o.Backoff, o.MaxBackoff = 1000, 50*time.Millisecond, 50*time.Millisecond // retrying until stopped
	first := notify.NewEngine(env.Client, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = first.Start(ctx) }()
	first.Enqueue(ev)
	var a v1alpha1.Alert
	eventually(t, "the failure message pending in the Alert's status", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "widgets"}, &a); err != nil {
			return err
		}
		if len(a.Status.Pending) != 1 || a.Status.Pending[0].Kind != notify.KindFailure {
			return fmt.Errorf("pending = %+v", a.Status.Pending)
		}
		return nil
	})
	cancel()
	<-done

	// The Provider is fixed while no agent runs; the next one delivers.
	var p v1alpha1.Provider
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "sink"}, &p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Address = sink.URL("/events")
	if err := env.Client.Update(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	second, _ := runEngine(t)
	got := waitRequests(t, sink, 1)
	if got[0].Payload["kind"] != notify.KindFailure || !strings.Contains(fmt.Sprint(got[0].Payload), "widget w is broken") {
		t.Errorf("the resumed message is %v", got[0].Payload)
	}
	eventually(t, "no pending message left", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "widgets"}, &a); err != nil {
			return err
		}
		if len(a.Status.Pending) != 0 {
			return fmt.Errorf("pending = %+v", a.Status.Pending)
		}
		return nil
	})
	second.Enqueue(ev) // a retry of the same failure: nothing more
	time.Sleep(500 * time.Millisecond)
	if n := len(sink.requests()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

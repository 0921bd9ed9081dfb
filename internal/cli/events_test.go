package cli

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// flotillaEvent is a core/v1 event about a Flotilla object, last seen age
// before getNow, count times over span.
func flotillaEvent(ns, kind, name, typ, reason, message string, age, span time.Duration, count int32) corev1.Event {
	last := getNow().Add(-age)
	return corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", name, age), CreationTimestamp: metav1.NewTime(last.Add(-span))},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: kind, Namespace: ns, Name: name,
		},
		Type: typ, Reason: reason, Message: message, Count: count,
		FirstTimestamp: metav1.NewTime(last.Add(-span)), LastTimestamp: metav1.NewTime(last),
	}
}

// shopEvents are the events of the fixtures: Flotilla's, one of a Pod, and
// one written through events.k8s.io (eventTime and series only).
func shopEvents() []corev1.Event {
	series := flotillaEvent("team-a", v1alpha1.StackKind, "web", corev1.EventTypeNormal, "Drift", "corrected .spec.replicas of Deployment shop/web", time.Minute, 0, 0)
	series.FirstTimestamp, series.LastTimestamp = metav1.Time{}, metav1.Time{}
	series.EventTime = metav1.NewMicroTime(getNow().Add(-time.Hour))
	series.Series = &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(getNow().Add(-time.Minute))}
	series.ReportingController, series.ReportingInstance, series.Action = "flotilla-agent", "flotilla-agent-0", "Reconcile"
	pod := flotillaEvent("flotilla-system", "Pod", "agent", corev1.EventTypeNormal, "Started", "container started", time.Second, 0, 1)
	pod.InvolvedObject.APIVersion = "v1"
	return []corev1.Event{
		flotillaEvent("flotilla-system", v1alpha1.StackKind, "apps", corev1.EventTypeWarning, v1alpha1.ReasonHealthCheckFailed,
			"Deployment shop/web did not become ready within 5m0s: 0 of 3 replicas available; the last one failed its readiness probe",
			2*time.Minute, 10*time.Minute, 3),
		flotillaEvent("flotilla-system", v1alpha1.GitRepositoryKind, "fleet", corev1.EventTypeNormal, "NewArtifact",
			"stored artifact for revision "+revMain, 3*time.Hour, 0, 1),
		pod,
		series,
		flotillaEvent("flotilla-system", v1alpha1.StackKind, "infra", corev1.EventTypeNormal, "ReconcileSucceeded",
			"applied revision "+revMain+": 12 unchanged", 5*time.Second, 0, 1),
	}
}

func TestEventEntriesOldestFirstAndOnlyFlotillas(t *testing.T) {
	match, err := eventFilter("")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range eventEntries(shopEvents(), match) {
		got = append(got, fmt.Sprintf("%s %s x%d", e.Namespace, e.Object, e.Count))
	}
	want := []string{
		"flotilla-system gitrepository/fleet x1",
		"flotilla-system stack/apps x3",
		"team-a stack/web x4",
		"flotilla-system stack/infra x1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestEventFilterFor(t *testing.T) {
	cases := []struct {
		forArg string
		want   []string
	}{
		{"stack/apps", []string{"stack/apps"}},
		{"Stack/web", []string{"stack/web"}},
		{"source/fleet", []string{"gitrepository/fleet"}},
		{"gitrepository/apps", nil},
	}
	for _, tc := range cases {
		t.Run(tc.forArg, func(t *testing.T) {
			match, err := eventFilter(tc.forArg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range eventEntries(shopEvents(), match) {
				got = append(got, e.Object)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("--for %s = %q, want %q", tc.forArg, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"apps", "stack/", "pod/agent"} {
		if _, err := eventFilter(bad); err == nil || !strings.Contains(err.Error(), "--for") {
			t.Errorf("--for %q = %v, want an error naming --for", bad, err)
		}
	}
}

func TestEventsTable(t *testing.T) {
	match, _ := eventFilter("")
	entries := eventEntries(shopEvents(), match)
	for name, namespaces := range map[string]bool{"events-table.golden": false, "events-all-namespaces-table.golden": true} {
		var out bytes.Buffer
		if err := printEventsTable(&out, palette{}, entries, namespaces, getNow()); err != nil {
			t.Fatal(err)
		}
		golden(t, name, out.String())
	}
	var plain, coloured bytes.Buffer
	_ = printEventsTable(&plain, palette{}, entries, false, getNow())
	_ = printEventsTable(&coloured, palette{on: true}, entries, false, getNow())
	if !strings.Contains(coloured.String(), "\x1b[33mWarning\x1b[0m") {
		t.Errorf("Warning is not coloured on a terminal:\n%s", coloured.String())
	}
	if diff := cmp.Diff(plain.String(), stripANSI(coloured.String())); diff != "" {
		t.Errorf("the colours move the columns:\n%s", diff)
	}
}

func TestEventsStructured(t *testing.T) {
	match, _ := eventFilter("")
	entries := eventEntries(shopEvents(), match)
	for _, format := range []string{OutputJSON, OutputYAML} {
		var out bytes.Buffer
		if err := printData(&out, format, entries); err != nil {
			t.Fatal(err)
		}
		golden(t, "events."+format+".golden", out.String())
	}
}

func TestEventsReadsBackEventsOfTheCluster(t *testing.T) {
	controlplane.Require(t, env)
	ns := uniqueName("events")
	createNamespace(t, env.Client, ns)
	for _, ev := range shopEvents() {
		ev.Namespace, ev.InvolvedObject.Namespace = ns, ns
		if err := env.Client.Create(t.Context(), &ev); err != nil {
			t.Fatalf("creating event %s: %v", ev.Name, err)
		}
	}
	createWithStatus(t, env.Client, fixtureStack(ns, "apps", 0, false, ""))
	createWithStatus(t, env.Client, fixtureStack(ns, "quiet", 0, false, ""))
	flags := []string{"-n", ns, "--kubeconfig", env.Kubeconfig}
	out, _, err := run(t, append([]string{"events"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, row := range rows(out)[1:] {
		objects = append(objects, slices.DeleteFunc(row, func(c string) bool { return !strings.Contains(c, "/") || strings.HasPrefix(c, "shop") })[0])
	}
	if want := []string{"gitrepository/fleet", "stack/apps", "stack/web", "stack/infra"}; !slices.Equal(objects, want) {
		t.Errorf("objects = %q, want %q (oldest first, no Pod)\n%s", objects, want, out)
	}
	out, _, err = run(t, append([]string{"events", "--for", "stack/apps", "-o", "json"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"object": "stack/apps"`) || strings.Contains(out, "stack/infra") {
		t.Errorf("--for stack/apps -o json:\n%s", out)
	}
	out, _, err = run(t, append([]string{"events", "--for", "stack/quiet"}, flags...)...)
	if err != nil || out != "no events found\n" {
		t.Errorf("events of an object without any = %q, %v", out, err)
	}
	_, _, err = run(t, append([]string{"events", "--for", "stack/appz"}, flags...)...)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Suggestion != "apps" {
		t.Errorf("events --for stack/appz = %v, want a NotFoundError suggesting apps", err)
	}
	_, _, err = run(t, "events", "--for", "stack/"+ns+"-none", "-A", "--kubeconfig", env.Kubeconfig)
	if err == nil || !strings.Contains(err.Error(), "in any namespace") {
		t.Errorf("events --for a missing Stack -A = %v, want an error", err)
	}
}

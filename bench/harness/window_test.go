package harness

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWindowPerReconcile(t *testing.T) {
	t0 := time.Unix(100, 0)
	before := Probe{At: t0, Requests: Counts{Get: 10, Patch: 3}, CPU: 2 * time.Second, Reconciles: 4, ReconcileSeconds: 1}
	after := Probe{At: t0.Add(10 * time.Second), Requests: Counts{Get: 14, Patch: 3, DryRun: 8}, CPU: 3 * time.Second, Reconciles: 6, ReconcileSeconds: 1.5}
	w := after.Since(before)
	if w.Elapsed != 10*time.Second || w.Reconciles != 2 || w.CPU != time.Second {
		t.Fatalf("window = %+v", w)
	}
	got := w.PerReconcile()
	want := Cost{Reconciles: 2, Requests: map[Verb]float64{Get: 2, DryRun: 4}, Wall: 0.25, CPU: 0.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PerReconcile (-want +got):\n%s", diff)
	}
}

func TestWindowWithoutReconcileIsABaseline(t *testing.T) {
	w := Window{Elapsed: 5 * time.Second, Requests: Counts{Watch: 1}, CPU: 30 * time.Millisecond}
	got := w.PerReconcile()
	want := Cost{Requests: map[Verb]float64{Watch: 1}, CPU: 0.03}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PerReconcile (-want +got):\n%s", diff)
	}
}

func TestWindowAdd(t *testing.T) {
	a := Window{Elapsed: time.Second, Requests: Counts{Get: 1}, CPU: time.Millisecond, Reconciles: 1, ReconcileSeconds: 0.1}
	b := Window{Elapsed: 2 * time.Second, Requests: Counts{Get: 2, Patch: 1}, CPU: 2 * time.Millisecond, Reconciles: 1, ReconcileSeconds: 0.2}
	got := a.Add(b)
	want := Window{Elapsed: 3 * time.Second, Requests: Counts{Get: 3, Patch: 1}, CPU: 3 * time.Millisecond, Reconciles: 2, ReconcileSeconds: 0.30000000000000004}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Add (-want +got):\n%s", diff)
	}
}

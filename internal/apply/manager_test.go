package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestNewManagerDefaults(t *testing.T) {
	m := NewManager(nil, Options{})
	if m.opts.Concurrency != 1 {
		t.Errorf("Concurrency = %d, want 1", m.opts.Concurrency)
	}
	if m.opts.FieldManager != "flotilla" {
		t.Errorf("FieldManager = %q, want flotilla", m.opts.FieldManager)
	}
	kept := NewManager(nil, Options{Concurrency: 4, FieldManager: "other"})
	if kept.opts.Concurrency != 4 || kept.opts.FieldManager != "other" {
		t.Errorf("explicit options overridden: %+v", kept.opts)
	}
}

func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions()
	if o.FieldManager != "flotilla" || o.Concurrency < 1 || o.Poll <= 0 || o.CRDTimeout <= 0 || o.Force {
		t.Errorf("DefaultOptions() = %+v", o)
	}
	o.OwnerName, o.OwnerNamespace = "web", "team-a"
	if got := o.Owner(); got != "team-a/web" {
		t.Errorf("Owner() = %q, want team-a/web", got)
	}
}

func TestEachCollectsEveryErrorWithinTheLimit(t *testing.T) {
	var inFlight, most atomic.Int32
	items := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

	errs := each(context.Background(), 3, items, func(_ context.Context, i int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		if i%2 == 0 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})

	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	sort.Strings(got)
	want := []string{"item 10", "item 2", "item 4", "item 6", "item 8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got), every one and not only the first:\n%s", diff)
	}
	if most.Load() > 3 {
		t.Errorf("%d in flight, limit 3", most.Load())
	}
}

func TestEachReportsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	errs := each(ctx, 2, []int{1, 2}, func(context.Context, int) error { return nil })

	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("each on a cancelled context = %v, want context.Canceled", errs)
	}
}

func TestDecide(t *testing.T) {
	live := configMap(map[string]any{"x": "1"})
	live.SetResourceVersion("41")
	live.SetGeneration(1)
	setManagedFieldsTime(live, "2026-01-01T00:00:00Z")

	sameButNewer := live.DeepCopy()
	sameButNewer.SetResourceVersion("42")
	sameButNewer.SetGeneration(2)
	setManagedFieldsTime(sameButNewer, "2026-06-01T00:00:00Z")

	changed := live.DeepCopy()
	changed.Object["data"] = map[string]any{"x": "2"}

	relabelled := live.DeepCopy()
	relabelled.SetLabels(map[string]string{OwnerNameLabel: "web"})

	tests := []struct {
		name      string
		live, dry *unstructured.Unstructured
		want      Action
	}{
		{name: "no live object", dry: live, want: Created},
		{name: "only resourceVersion, generation and managedFields times differ", live: live, dry: sameButNewer, want: Unchanged},
		{name: "data differs", live: live, dry: changed, want: Configured},
		{name: "labels differ", live: live, dry: relabelled, want: Configured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.live, tt.dry); got != tt.want {
				t.Errorf("decide = %s, want %s", got, tt.want)
			}
		})
	}
	if live.GetResourceVersion() != "41" {
		t.Error("decide modified its input")
	}
}

func configMap(data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"data": data}}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("web")
	u.SetName("settings")
	return u
}

// setManagedFieldsTime gives u one managedFields entry of flotilla, written at ts.
func setManagedFieldsTime(u *unstructured.Unstructured, ts string) {
	u.Object["metadata"].(map[string]any)["managedFields"] = []any{
		map[string]any{"manager": "flotilla", "operation": "Apply", "time": ts},
	}
}

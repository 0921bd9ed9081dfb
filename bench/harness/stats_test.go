package harness

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted on purpose
	}
	tests := []struct {
		name   string
		values []int
		p      float64
		want   int
	}{
		{name: "empty-is-zero", values: nil, p: 50, want: 0},
		{name: "single-value", values: []int{7}, p: 99, want: 7},
		{name: "median-of-odd-count", values: []int{3, 1, 2}, p: 50, want: 2},
		{name: "median-of-even-count-is-lower-middle", values: []int{4, 1, 3, 2}, p: 50, want: 2},
		{name: "p99-of-hundred-is-99th", values: hundred, p: 99, want: 99},
		{name: "p100-is-max", values: hundred, p: 100, want: 100},
		{name: "p1-of-hundred-is-min", values: hundred, p: 1, want: 1},
		{name: "p99-of-ten-is-max", values: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, p: 99, want: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.values, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.values, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileLeavesInputUnsorted(t *testing.T) {
	in := []int{3, 1, 2}
	Percentile(in, 50)
	if diff := cmp.Diff([]int{3, 1, 2}, in); diff != "" {
		t.Errorf("input modified (-want +got):\n%s", diff)
	}
}

func TestSummarizeLatencies(t *testing.T) {
	ms := time.Millisecond
	got := SummarizeLatencies([]time.Duration{40 * ms, 10 * ms, 20 * ms, 30 * ms})
	want := Latency{N: 4, P50: 20 * ms, P99: 40 * ms, Max: 40 * ms, Mean: 25 * ms}
	if got != want {
		t.Errorf("SummarizeLatencies = %+v, want %+v", got, want)
	}
	if got := SummarizeLatencies(nil); got != (Latency{}) {
		t.Errorf("SummarizeLatencies(nil) = %+v, want zero", got)
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Spread
	}{
		{name: "no-runs", values: nil, want: Spread{}},
		{name: "one-run", values: []float64{5}, want: Spread{Min: 5, Median: 5}},
		{name: "three-runs", values: []float64{9, 1, 4}, want: Spread{Min: 1, Median: 4}},
		{name: "two-runs-median-is-mean", values: []float64{2, 4}, want: Spread{Min: 2, Median: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SpreadOf(tt.values); got != tt.want {
				t.Errorf("SpreadOf(%v) = %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

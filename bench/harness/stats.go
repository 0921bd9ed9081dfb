package harness

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of values by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns the zero value for no values; values need not be
// sorted and are not modified.
func Percentile[T cmp.Ordered](values []T, p float64) T {
	var zero T
	if len(values) == 0 {
		return zero
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Latency summarizes a set of latencies.
type Latency struct {
	N                   int
	P50, P99, Max, Mean time.Duration
}

// SummarizeLatencies returns the p50, p99, max and mean of d.
func SummarizeLatencies(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{
		N:    len(d),
		P50:  Percentile(d, 50),
		P99:  Percentile(d, 99),
		Max:  slices.Max(d),
		Mean: sum / time.Duration(len(d)),
	}
}

// Median returns the median of values (the mean of the two middle values
// for an even count), 0 for none.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Spread is the minimum and the median of one figure over repeated runs.
type Spread struct{ Min, Median float64 }

// SpreadOf returns the minimum and median of values.
func SpreadOf(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	return Spread{Min: slices.Min(values), Median: Median(values)}
}

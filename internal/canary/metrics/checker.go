package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// DefaultQueryTimeout bounds one query when WithQueryTimeout is not given.
const DefaultQueryTimeout = 10 * time.Second

// Checker runs a Canary's metric checks against Prometheus.
type Checker struct {
	client        client.Reader
	timeout       time.Duration
	sameNamespace bool
}

var _ canary.MetricChecker = (*Checker)(nil)

// Option configures a Checker.
type Option func(*Checker)

// WithQueryTimeout bounds each query (and the reads of its template and
// Secret); the default is DefaultQueryTimeout.
func WithQueryTimeout(d time.Duration) Option {
	return func(k *Checker) {
		if d > 0 {
			k.timeout = d
		}
	}
}

// WithNoCrossNamespaceRefs refuses a templateRef to another namespace than
// the Canary's (the lock-down of multi-tenant clusters): a tenant cannot
// borrow another tenant's MetricTemplate and the credentials it holds.
func WithNoCrossNamespaceRefs() Option { return func(k *Checker) { k.sameNamespace = true } }

// New returns a Checker that reads MetricTemplates and Secrets with c.
func New(c client.Reader, opts ...Option) *Checker {
	k := &Checker{client: c, timeout: DefaultQueryTimeout}
	for _, o := range opts {
		o(k)
	}
	return k
}

// Check runs metric m of Canary c. The result passes only when the query
// returned exactly one number in m's thresholdRange; otherwise its message
// says why, without credentials.
func (k *Checker) Check(ctx context.Context, c *v1alpha1.Canary, m v1alpha1.CanaryMetric) v1alpha1.MetricResult {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	res := v1alpha1.MetricResult{Name: m.Name}
	q, err := k.resolve(ctx, c, m)
	if err != nil {
		res.Message = q.redactor.Error(err)
		return res
	}
	value, err := q.run(ctx)
	if err != nil {
		res.Message = q.redactor.Error(err)
		return res
	}
	res.Value = FormatValue(value)
	res.Passed, res.Message = inRange(value, m.ThresholdRange)
	return res
}

// FormatValue writes a query's value as MetricResult.Value does: up to
// eight significant digits.
func FormatValue(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// inRange says whether v is within r (both ends included), and if not why.
func inRange(v float64, r *v1alpha1.CanaryThresholdRange) (bool, string) {
	if r == nil {
		return true, ""
	}
	if r.Min != nil && v < *r.Min {
		return false, fmt.Sprintf("value %s is below the minimum %s", FormatValue(v), FormatValue(*r.Min))
	}
	if r.Max != nil && v > *r.Max {
		return false, fmt.Sprintf("value %s is above the maximum %s", FormatValue(v), FormatValue(*r.Max))
	}
	return true, ""
}

// ErrNoValue is a query that returned no sample: no traffic, no series, a
// wrong label. A check never passes on it.
var ErrNoValue = errors.New("the query returned no value (no traffic reached the canary, or no series match the query)")

// checkValue refuses values a check cannot judge.
func checkValue(v float64) error {
	switch {
	case math.IsNaN(v):
		return errors.New("the query returned NaN (no requests in the interval, or a division by zero)")
	case math.IsInf(v, 0):
		return fmt.Errorf("the query returned %s", FormatValue(v))
	}
	return nil
}

// emptyRedactor masks nothing but URL credentials; resolve replaces it once
// the Secret is read.
func emptyRedactor() *redact.Redactor { return redact.New() }

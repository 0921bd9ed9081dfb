package metrics

import (
	"bytes"
	"fmt"
	"text/template"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// DefaultInterval is the range of a query when neither the metric nor the
// analysis sets an interval (Flagger's default analysis interval).
const DefaultInterval = "1m"

// Model holds the values of a query template's variables.
type Model struct {
	// Name is the Canary's name ({{ name }}).
	Name string
	// Namespace is the Canary's namespace ({{ namespace }}).
	Namespace string
	// Target is the name of the Canary's Deployment ({{ target }}).
	Target string
	// Service is the apex Service's name ({{ service }}): spec.service.name,
	// else the target's name.
	Service string
	// Ingress is the name of the route in front of the Canary
	// ({{ ingress }}): the HTTPRoute of the gatewayapi router, named like
	// the apex Service; empty for the kubernetes router, which has none.
	Ingress string
	// Interval is the query range, like 1m ({{ interval }}).
	Interval string
	// Variables are the metric's templateVariables ({{ variables.NAME }}).
	Variables map[string]string
}

// ModelOf returns the template values of metric m of Canary c.
func ModelOf(c *v1alpha1.Canary, m v1alpha1.CanaryMetric) Model {
	service := c.Spec.Service.Name
	if service == "" {
		service = c.Spec.TargetRef.Name
	}
	interval := m.Interval
	if interval == "" {
		interval = c.Spec.Analysis.Interval
	}
	if interval == "" {
		interval = DefaultInterval
	}
	var ingress string
	if c.Spec.Provider == v1alpha1.RouterGatewayAPI {
		ingress = service
	}
	vars := make(map[string]string, len(m.TemplateVariables))
	for k, v := range m.TemplateVariables {
		vars[k] = v
	}
	return Model{
		Name: c.Name, Namespace: c.Namespace, Target: c.Spec.TargetRef.Name,
		Service: service, Ingress: ingress, Interval: promDuration(interval), Variables: vars,
	}
}

// promDuration rewrites a Go duration such as 1.5m or 90s in Prometheus's
// duration grammar (1m30s): the API admits fractions, Prometheus refuses
// them. A range shorter than a millisecond becomes 1ms, the shortest
// Prometheus can express. An interval Go cannot read is returned as
// written, so Prometheus's error names what the user wrote.
func promDuration(interval string) string {
	d, err := time.ParseDuration(interval)
	if err != nil || d <= 0 {
		return interval
	}
	d = d.Round(time.Millisecond)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return model.Duration(d).String()
}

// funcs are Flagger's template functions: each variable is a function, so
// {{ namespace }} and {{ variables.foo }} read as in Flagger's templates.
func (m Model) funcs() template.FuncMap {
	return template.FuncMap{
		"name":      func() string { return m.Name },
		"namespace": func() string { return m.Namespace },
		"target":    func() string { return m.Target },
		"service":   func() string { return m.Service },
		"ingress":   func() string { return m.Ingress },
		"interval":  func() string { return m.Interval },
		"variables": func() map[string]string { return m.Variables },
	}
}

// maxQuery bounds a rendered query: a template that loops or repeats
// cannot make a huge request.
const maxQuery = 64 << 10

// Render executes the query template with m's values. A variable the
// metric does not set ({{ variables.missing }}) is an error, not an empty
// string: a query with a hole in it would judge the wrong thing.
func Render(query string, m Model) (string, error) {
	t, err := template.New("query").Funcs(m.funcs()).Option("missingkey=error").Parse(query)
	if err != nil {
		return "", fmt.Errorf("parsing the query template: %w", err)
	}
	var out limitedBuffer
	if err := t.Execute(&out, nil); err != nil {
		return "", fmt.Errorf("rendering the query template: %w", err)
	}
	return out.String(), nil
}

// limitedBuffer is a bytes.Buffer that refuses to grow past maxQuery.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxQuery {
		return 0, fmt.Errorf("the rendered query is longer than %d bytes", maxQuery)
	}
	return b.Buffer.Write(p)
}

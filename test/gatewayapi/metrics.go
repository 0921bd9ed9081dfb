package gatewayapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Traefik's metrics of its services, each labelled service (and code,
// method and protocol).
const (
	// ServiceRequestsMetric counts the requests Traefik sent to a service.
	ServiceRequestsMetric = "traefik_service_requests_total"
	// ServiceDurationMetric is the histogram of their durations, in seconds.
	ServiceDurationMetric = "traefik_service_request_duration_seconds"
)

// Scrape reads Traefik's Prometheus metrics, by metric family name.
func (t *Traefik) Scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.MetricsURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping traefik: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping traefik: %s answered %s", t.MetricsURL(), resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing traefik's metrics: %w", err)
	}
	return families, nil
}

// ServiceRequests sums traefik_service_requests_total by its service
// label: the requests Traefik sent to each service so far.
func (t *Traefik) ServiceRequests(ctx context.Context) (map[string]float64, error) {
	families, err := t.Scrape(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	fam, ok := families[ServiceRequestsMetric]
	if !ok {
		return out, nil
	}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "service" {
				out[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	return out, nil
}

// ServiceLabels lists the values of the service label of the metric family
// name, each once, in the order Traefik exposes them.
func (t *Traefik) ServiceLabels(ctx context.Context, name string) ([]string, error) {
	families, err := t.Scrape(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range families[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "service" && !slices.Contains(out, l.GetValue()) {
				out = append(out, l.GetValue())
			}
		}
	}
	return out, nil
}
